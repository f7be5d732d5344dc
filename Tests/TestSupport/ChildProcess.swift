import CreditCore
import Foundation
import Store

/// A child process of the built `xyd`, its standard output and error collected.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let collected = Locked(Data())
    /// Bound on waiting (not a timing assertion: a hung child is killed and reported).
    public static let waitLimit = Duration.seconds(120)

    public static func xyd(_ arguments: [String], environment: [String: String]) throws -> ChildProcess {
        // The test run's own XYD_ settings are not the child's; the audit key is the tests' own
        // unless the test names another (or none, with an empty value).
        var environment = environment
        if environment["XYD_AUDIT_KEY"] == nil && environment["XYD_AUDIT_KEY_FILE"] == nil {
            environment["XYD_AUDIT_KEY"] = TestEnvironment.auditKeyBase64
        }
        if environment["XYD_DB_ACQUIRE_TIMEOUT_MS"] == nil {
            environment["XYD_DB_ACQUIRE_TIMEOUT_MS"] = String(TestEnvironment.acquireTimeoutMilliseconds)
        }
        environment = environment.filter { !$0.value.isEmpty }
        return try start(
            URL(fileURLWithPath: TestEnvironment.xydBinary),
            arguments,
            environment: environment,
            dropXYD: true,
            mergeErrors: true
        )
    }

    private let errors = Locked(Data())

    /// Any program (found on PATH when `executable` has no slash), standard output and
    /// standard error collected apart.
    public static func launch(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        executable.contains("/")
            ? try start(URL(fileURLWithPath: executable), arguments, environment: environment, dropXYD: false, mergeErrors: false)
            : try start(
                URL(fileURLWithPath: "/usr/bin/env"),
                [executable] + arguments,
                environment: environment,
                dropXYD: false,
                mergeErrors: false
            )
    }

    private static func start(
        _ url: URL,
        _ arguments: [String],
        environment: [String: String],
        dropXYD: Bool,
        mergeErrors: Bool
    ) throws -> ChildProcess {
        let child = ChildProcess()
        child.process.executableURL = url
        child.process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !dropXYD || !$0.key.hasPrefix("XYD_") }
        env.merge(environment) { _, new in new }
        child.process.environment = env
        let out = Pipe()
        child.process.standardOutput = out
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            child.collected.withLock { $0.append(data) }
        }
        if mergeErrors {
            child.process.standardError = out
        } else {
            let err = Pipe()
            child.process.standardError = err
            err.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                child.errors.withLock { $0.append(data) }
            }
        }
        try child.process.run()
        return child
    }

    /// Standard error, for a child started with `launch`.
    public func errorOutput() -> String { String(decoding: errors.withLock { $0 }, as: UTF8.self) }

    public func output() -> String { String(decoding: collected.withLock { $0 }, as: UTF8.self) }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// The exit status (negative: the signal that ended it). Polls, so as not to block a
    /// thread of the cooperative pool.
    public func wait() async throws -> Int32 {
        let started = ContinuousClock.now
        while process.isRunning {
            if ContinuousClock.now - started > Self.waitLimit {
                kill(process.processIdentifier, SIGKILL)
                throw TestSetupError("\(process.arguments ?? []) did not exit:\n\(output())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(100))  // let the last output arrive
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }
}
