// swift-tools-version:6.1
import PackageDescription

// Our own targets: Swift 6 language mode, and a warning fails the build (dependencies are not affected).
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6), .unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "xinyidai",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "xyd", targets: ["xyd"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        // libcurl, through typed C shims for its variadic functions.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // A safe async HTTP client over libcurl's multi interface, on a thread of its own.
        .target(name: "Curl", dependencies: ["CCurl"], swiftSettings: strict),
        // Pure domain: no I/O.
        .target(
            name: "CreditCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                // scrypt for people's passwords (Credentials.swift).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // PostgreSQL, and the only home of SQL: the database and migrations, access (organisations, keys,
        // sessions, authorisations), the audit log, ingestion, profiles, the market, statistics, governance.
        .target(
            name: "Store",
            dependencies: [
                "CreditCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // The pool's own error (the database cannot be reached at all): told apart as unavailable.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // HTTP: the Hummingbird application and its middleware, access policy and problems (HTTP/), the JSON
        // routes (API/), the operations the API and the portal share (Actions/), the portal's and the dashboard's
        // pages (Portal/, Dashboard/, Web/), webhook delivery (Background/).
        .target(
            name: "Server",
            dependencies: [
                "CreditCore", "Store", "Feeds", "Curl",
                .product(name: "Hummingbird", package: "hummingbird"),
                // The blocking pool password hashing runs on (Passwords.swift).
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The provider client (signing, paging, retries) and the ingestion pipeline.
        .target(
            name: "Feeds",
            dependencies: [
                "CreditCore", "Curl", "Store",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // A deterministic synthetic city and a server speaking providers.md for it.
        .target(
            name: "Simulator",
            dependencies: [
                "CreditCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The command: thin, calls into the libraries.
        .executableTarget(
            name: "xyd",
            dependencies: [
                "CreditCore", "Store", "Server", "Simulator", "Feeds", "Curl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Test helpers: a fresh PostgreSQL database per test, copied from the migrated template.
        .target(
            name: "TestSupport",
            dependencies: ["Store", "CreditCore", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "CreditCoreTests", dependencies: ["CreditCore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "CurlTests",
            dependencies: [
                "Curl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FeedsTests",
            dependencies: [
                "Feeds", "Simulator", "Store", "CreditCore", "Curl", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "CreditCore"], swiftSettings: strict),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "CreditCore", "TestSupport", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Store", "CreditCore", "Curl", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
