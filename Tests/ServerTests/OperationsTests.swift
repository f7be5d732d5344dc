import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server
@testable import Store

/// Readiness, metrics, the stale-schema refusal, and the real `xyd serve` process over real
/// HTTP: start, serve, SIGTERM, drain, seal, exit 0.
@Suite struct OperationsTests {
    @Test func serveRefusesAStaleSchema() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let app = try buildApplication(try testConfig(db))
            await #expect {
                try await app.test(.router) { _ in }
            } throws: { error in
                guard case MigrationError.pending(let names) = error else { return false }
                return !names.isEmpty && "\(error)".contains("xyd migrate")
            }
        }
    }

    @Test func readyzAndMetrics() async throws {
        try await TestDatabase.with { db in
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
                let ready = try await client.execute(uri: "/readyz", method: .get)
                #expect(ready.status == .ok)
                #expect(String(buffer: ready.body) == #"{"status":"ready"}"#)
                _ = try await client.execute(uri: "/v1/orgs/\(UUID())", method: .get)
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                // Labelled by route template, never by the raw URI.
                #expect(metrics.contains(#"http_route="/v1/orgs/{orgId}""#))
                #expect(metrics.contains("xyd_db_pool_connections_max"))
                #expect(metrics.contains("xyd_db_pool_connections_in_use"))
                #expect(!metrics.contains("/v1/orgs/\(UUID().uuidString.prefix(4))"))
            }
        }
    }

    @Test func readyzIs503WhenMigrationsArePending() async throws {
        try await TestDatabase.with { db in
            let config = try testConfig(db)
            let real = try Migrator(folder: config.migrationsDirectory)
            let ahead = Migrator(
                migrations: real.migrations + [
                    Migration(version: 9998, name: "9998_future", sql: "SELECT 1", checksum: "f")
                ]
            )
            let deps = Dependencies(config: config, db: db.app, migrator: ahead, registry: Observability.registry)
            let (router, _) = buildRouter(deps)
            let app = Application(router: router)
            try await app.test(.router) { client in
                let r = try await client.execute(uri: "/readyz", method: .get)
                #expect(r.status == .serviceUnavailable)
                #expect(try decodeProblem(r).detail?.contains("9998_future") == true)
            }
        }
    }

    @Test func theServeProcessShutsDownGracefullyOnSIGTERM() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let server = try ServerProcess.start(environment: [
                "XYD_DATABASE_URL": db.appURL.urlString,
                "XYD_MIGRATIONS_DIR": TestEnvironment.migrationsDirectory,
                "XYD_HTTP_PORT": "0",
                "XYD_LOG_FORMAT": "json",
                // Long enough that only the final seal at shutdown can seal our row.
                "XYD_AUDIT_SEAL_INTERVAL_MS": "60000",
            ])
            let port = try await server.waitForPort()
            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            let health = try await client.get("/healthz")
            #expect(health.status == .ok)
            var headers = bearer(keys.byKind[.bank]!)
            headers[.contentType] = "application/json"
            let issued = try await client.post("/v1/keys", headers: headers, body: jsonBody(#"{"label":"rotation"}"#))
            #expect(issued.status == .created)
            try await client.shutdown()

            let status = try await server.terminate()
            #expect(status == 0)
            let log = server.output()
            #expect(log.contains("stopped gracefully"))
            // Every log line is JSON, and request lines carry the request id.
            let lines = log.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(lines.contains { $0.contains(#""msg":"request""#) && $0.contains(#""request_id":"#) })
            // No secret in the logs.
            #expect(!log.contains(keys.byKind[.bank]!))
            #expect(!log.contains(db.appURL.password ?? "no-password"))
            // The audit row of the key issue was sealed on the way down.
            let unsealed: Int = try await db.owner.scalar("SELECT count(*)::int FROM audit_unsealed")
            #expect(unsealed == 0)
            #expect(try await Audit.verify(db.app) == Audit.Verification(verified: 1, unsealed: 0, firstBreak: nil))
        }
    }

    @Test func theServeProcessRefusesBadConfigurationAndAStaleSchema() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let badPort = try ServerProcess.start(environment: [
                "XYD_DATABASE_URL": db.appURL.urlString, "XYD_HTTP_PORT": "eighty",
            ])
            #expect(try await badPort.wait() == 78)
            #expect(badPort.output().contains("XYD_HTTP_PORT is 'eighty': expected an integer from 0 to 65535"))

            let stale = try ServerProcess.start(environment: [
                "XYD_DATABASE_URL": db.appURL.urlString, "XYD_HTTP_PORT": "0",
                "XYD_MIGRATIONS_DIR": TestEnvironment.migrationsDirectory,
            ])
            #expect(try await stale.wait() == 78)
            #expect(stale.output().contains("Run `xyd migrate` first"))
        }
    }

    /// `ops/backup` and `ops/restore`: a database in use comes back whole — every count, the
    /// audit chain's head and the rows themselves — proven against the manifest; a damaged dump
    /// and an existing database are refused, and a refused restore creates nothing.
    @Test func backupAndRestoreBringTheDatabaseBackWhole() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                for _ in 0..<3 {
                    let r = try await client.execute(
                        uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                        method: .get,
                        headers: bearer(w.bank)
                    )
                    #expect(r.status == .ok)
                }
            }
            _ = try await Audit.sealAll(db.app)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xyd-backup-\(UUID())")
            defer { try? FileManager.default.removeItem(at: dir) }
            let dump = dir.appendingPathComponent("t.dump").path
            func ops(_ script: String, _ arguments: [String]) async throws -> (Int32, String, String) {
                // The rows carry codes made with the tests' audit key: the restore checks them with it.
                let p = try ChildProcess.launch(
                    repositoryRoot.appendingPathComponent("ops/\(script)").path,
                    arguments,
                    environment: ["XYD_AUDIT_KEY": TestEnvironment.auditKeyBase64]
                )
                let status = try await p.wait()
                return (status, p.output(), p.errorOutput())
            }
            let (backed, out, err) = try await ops("backup", ["--database", db.name, "--out", dump])
            #expect(backed == 0, "\(out)\n\(err)")
            #expect(out.contains("backup of \(db.name)"))
            let target = db.name + "_r"
            let (restored, rout, rerr) = try await ops("restore", [dump, "--database", target])
            #expect(restored == 0, "\(rout)\n\(rerr)")
            #expect(rout.contains("every count and the audit chain's head as backed up"), "\(rout)")
            #expect(rout.contains("audit chain intact"), "\(rout)")
            // The rows themselves, not only their number.
            let digest = """
                SELECT md5(coalesce((SELECT string_agg(id || result || action || detail::text, ',' ORDER BY id) FROM audit_log), '')
                    || coalesce((SELECT string_agg(uscc || score::text || features::text, ',' ORDER BY uscc) FROM profile), '')
                    || coalesce((SELECT string_agg(id::text || coalesce(revoked_at::text, ''), ',' ORDER BY id) FROM authorisation), ''))
                """
            let original: String = try await db.owner.scalar(digest)
            var copySettings = DatabaseSettings(url: try TestEnvironment.ownerURL().with(database: target), poolSize: 1)
            copySettings.acquireTimeoutMilliseconds = TestEnvironment.acquireTimeoutMilliseconds
            let copy = Database(settings: copySettings, logger: TestEnvironment.logger)
            let copied: String = try await copy.withRunning { c in try await c.scalar(digest) }
            #expect(copied == original)
            // Never over an existing database without --replace.
            let (again, _, againErr) = try await ops("restore", [dump, "--database", target])
            #expect(again != 0 && againErr.contains("exists"), "\(againErr)")
            // A damaged dump is refused before anything is created.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: dump))
            bytes[bytes.count / 2] ^= 0xFF
            let damaged = dir.appendingPathComponent("damaged.dump").path
            try bytes.write(to: URL(fileURLWithPath: damaged))
            try FileManager.default.copyItem(atPath: dump + ".json", toPath: damaged + ".json")
            let other = db.name + "_d"
            let (bad, _, badErr) = try await ops("restore", [damaged, "--database", other])
            #expect(bad != 0 && badErr.contains("does not match the SHA-256"), "\(badErr)")
            let created: Int = try await db.owner.scalar("SELECT count(*)::int FROM pg_database WHERE datname = '\(other)'")
            #expect(created == 0)
            // A dump whose restored rows do not match its manifest: refused, and the copy removed.
            var manifest = try String(contentsOfFile: dump + ".json", encoding: .utf8)
            let audited = try #require(manifest.range(of: #""audit_log": [0-9]+"#, options: .regularExpression))
            manifest.replaceSubrange(audited, with: "\"audit_log\": 999999")
            let lying = dir.appendingPathComponent("lying.dump").path
            try FileManager.default.copyItem(atPath: dump, toPath: lying)
            try manifest.write(toFile: lying + ".json", atomically: true, encoding: .utf8)
            let mismatched = db.name + "_m"
            let (refused, _, refusedErr) = try await ops("restore", [lying, "--database", mismatched])
            #expect(refused != 0 && refusedErr.contains("removed again"), "\(refusedErr)")
            let left: Int = try await db.owner.scalar("SELECT count(*)::int FROM pg_database WHERE datname = '\(mismatched)'")
            #expect(left == 0)
            // (ops/test drops a copy left behind by a failure: its name starts like the test's.)
            try await TestDatabase.adminExecute("DROP DATABASE IF EXISTS \(target) WITH (FORCE)")
        }
    }
}

/// The built `xyd serve` as a child process.
struct ServerProcess {
    let child: ChildProcess

    static func start(environment: [String: String]) throws -> ServerProcess {
        ServerProcess(child: try ChildProcess.xyd(["serve"], environment: environment))
    }

    func output() -> String { child.output() }

    /// The port from the "listening on 127.0.0.1:PORT" line (bounded wait; not a timing assertion).
    func waitForPort() async throws -> Int {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < ChildProcess.waitLimit {
            let text = output()
            if let range = text.range(of: "listening on 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return port }
            }
            if !child.process.isRunning { throw TestSetupError("xyd serve exited during start-up:\n\(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        child.signal(SIGKILL)
        throw TestSetupError("xyd serve did not start listening:\n\(output())")
    }

    /// SIGTERM, then the exit status.
    func terminate() async throws -> Int32 {
        child.signal(SIGTERM)
        return try await child.wait()
    }

    func wait() async throws -> Int32 { try await child.wait() }
}
