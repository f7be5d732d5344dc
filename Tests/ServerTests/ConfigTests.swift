import Testing

@testable import Server

@Suite struct ConfigTests {
    let base = ["XYD_DATABASE_URL": "postgres://xyd_app:pw@127.0.0.1:54329/xyd"]

    @Test func defaultsAreExplicit() throws {
        let c = try AppConfig.load(environment: base)
        #expect(c.httpHost == "127.0.0.1")
        #expect(c.httpPort == 8080)
        #expect(c.database.poolSize == 16)
        #expect(c.maxBodyBytes == 1 << 20)
        #expect(c.logFormat == .text)
    }

    @Test func aFlagOverridesItsVariable() throws {
        let c = try AppConfig.load(environment: base.merging(["XYD_HTTP_PORT": "9000"]) { $1 }, overrides: ["XYD_HTTP_PORT": "9100"])
        #expect(c.httpPort == 9100)
    }

    @Test(arguments: [
        ("XYD_HTTP_PORT", "http"), ("XYD_HTTP_PORT", "70000"), ("XYD_DB_POOL_SIZE", "0"),
        ("XYD_DB_CONNECT_TIMEOUT_MS", "-5"), ("XYD_MAX_BODY_BYTES", "10"), ("XYD_LOG_LEVEL", "loud"),
        ("XYD_LOG_FORMAT", "xml"), ("XYD_AUDIT_SEAL_BATCH", "20000"), ("XYD_HTTP_HOST", "a b"),
        ("XYD_DATABASE_URL", "mysql://x@y/z"), ("XYD_HTTP_IDLE_TIMEOUT_S", "0"),
    ])
    func anInvalidValueIsRefusedNamingTheVariable(variable: String, value: String) {
        #expect {
            try AppConfig.load(environment: base.merging([variable: value]) { $1 })
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.variable == variable && e.description.hasPrefix(variable) && e.description.contains("expected")
        }
    }

    @Test func theDatabaseURLIsRequiredAndItsPasswordNeverShown() {
        #expect(
            throws: ConfigError(
                variable: "XYD_DATABASE_URL",
                value: nil,
                expected: "a URL such as postgres://xyd_app:PASSWORD@127.0.0.1:54329/xyd"
            )
        ) {
            try AppConfig.load(environment: [:])
        }
        do {
            _ = try AppConfig.load(environment: ["XYD_DATABASE_URL": "postgres://u:secretpw@h/d?sslmode=bogus"])
            Issue.record("expected a refusal")
        } catch {
            #expect(!"\(error)".contains("secretpw"))
        }
    }

    @Test func everySettingIsDocumentedInTheReadme() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for setting in AppConfig.settings {
            #expect(readme.contains("`\(setting.variable)`"), "README.md lacks \(setting.variable)")
        }
    }
}
