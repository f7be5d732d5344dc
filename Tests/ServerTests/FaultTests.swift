import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Server
import Store
import TestSupport
import Testing

/// Faults from the outside fault-injection run (issue 16), each reproduced against the real
/// database.
@Suite struct FaultTests {
    static let idempotencyKey = IdempotencyTests.key
    static let demand = IdempotencyTests.demand

    /// The fault run's deterministic reproduction: the request's effect commits but recording its
    /// response fails. Now both are one transaction: nothing commits, and the retry runs once.
    @Test func aWriteWhoseResponseCannotBeRecordedLeavesNothingAndItsRetryActsOnce() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                var headers = bearer(w.business).merging(.json)
                headers[Self.idempotencyKey] = "demand-fault-1"
                do {
                    try await db.owner.execute(
                        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the record fails'; END $$"
                    )
                    try await db.owner.execute(
                        "CREATE TRIGGER refuse BEFORE INSERT ON idempotency_key FOR EACH ROW EXECUTE FUNCTION refuse()"
                    )
                } catch {
                    Issue.record("\(String(reflecting: error))")
                    return
                }
                let failed = try await client.execute(uri: "/v1/me/demands", method: .post, headers: headers, body: jsonBody(Self.demand))
                #expect(failed.status == .internalServerError)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand") == 0, "the effect rolled back with its record")
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE action = 'demand.post'") == 0)
                try await db.owner.execute("DROP TRIGGER refuse ON idempotency_key")
                // The retry runs at once (no key left reserved), and a further retry is a replay.
                let first = try await client.execute(uri: "/v1/me/demands", method: .post, headers: headers, body: jsonBody(Self.demand))
                #expect(first.status == .created)
                let replay = try await client.execute(uri: "/v1/me/demands", method: .post, headers: headers, body: jsonBody(Self.demand))
                #expect(replay.status == .created && String(buffer: replay.body) == String(buffer: first.body))
                #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand") == 1)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE action = 'demand.post'") == 1)
            }
        }
    }

    /// Every connection busy (the database stalled behind a lock): a request waiting for a
    /// connection gets 503 with Retry-After instead of hanging, `/readyz` says the database is
    /// unavailable, and once the stall ends the same server answers again without a restart.
    @Test func aStalledDatabaseGives503AndTheServiceRecoversOnItsOwn() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let pool = 2
            try await w.app(db, ["XYD_DB_POOL_SIZE": "\(pool)", "XYD_DB_ACQUIRE_TIMEOUT_MS": "1000"]).test(.router) { client in
                try await eventually("the service answers") {
                    try await client.execute(uri: "/v1/me", method: .get, headers: bearer(w.business)).status == .ok
                }
                let stalled = try await db.owner.withConnection { c in
                    try await c.query("BEGIN", logger: db.owner.logger)
                    try await c.query("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE", logger: db.owner.logger)
                    // Requests take every connection of the pool and wait on the lock.
                    let holders = (0..<pool).map { _ in
                        Task { try await client.execute(uri: "/v1/me", method: .get, headers: bearer(w.bank)).status }
                    }
                    try await eventually("every pooled connection waits on the lock") {
                        let waiting: Int = try await db.app.scalar(
                            "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                        return waiting >= pool
                    }
                    let refused = try await client.execute(uri: "/v1/me", method: .get, headers: bearer(w.business))
                    let ready = try await client.execute(uri: "/readyz", method: .get)
                    try await c.query("ROLLBACK", logger: db.owner.logger)
                    for h in holders { _ = try await h.value }
                    return (refused, ready)
                }
                #expect(stalled.0.status == .serviceUnavailable, "\(String(buffer: stalled.0.body))")
                #expect(stalled.0.headers[.retryAfter] != nil)
                #expect(try decodeProblem(stalled.0).type.hasSuffix("not-ready"))
                #expect(stalled.1.status == .serviceUnavailable)
                #expect(String(buffer: stalled.1.body).contains("database unavailable"))
                // Recovered, without a restart.
                try await eventually("the service answers again") {
                    try await client.execute(uri: "/v1/me", method: .get, headers: bearer(w.business)).status == .ok
                }
                #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            }
        }
    }

    /// The fault run's experiment with real processes: `xyd serve` killed (-9) again and again
    /// while a business writes with Idempotency-Keys, each write retried until answered — on
    /// the restarted server when the first died under it. Every write took effect exactly once,
    /// and each has exactly one record of its answer.
    @Test func killingTheServerUnderIdempotentWritesLosesNothingAndDoublesNothing() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let environment = [
                "XYD_DATABASE_URL": db.appURL.urlString, "XYD_MIGRATIONS_DIR": TestEnvironment.migrationsDirectory,
                "XYD_HTTP_PORT": "0",  // the "listening on" line is at info level
            ]
            var server = try ServerProcess.start(environment: environment)
            var port = try await server.waitForPort()
            let writes = 60
            var kills = 0
            let expires = ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 86_400))
            let body =
                "{\"bank_org_id\": \"\(w.bankId)\", \"scopes\": [\"profile\"], \"purpose\": \"credit_line_review\", \"expires_at\": \"\(expires)\"}"
            for i in 0..<writes {
                var headers = bearer(w.business)
                headers[.contentType] = "application/json"
                headers[Self.idempotencyKey] = "grant-\(i)"
                var answered = false
                for attempt in 1...20 where !answered {
                    let client = TestClient(host: "127.0.0.1", port: port)
                    client.connect()
                    let kill = i % 7 == 3 && attempt == 1
                    async let reply = try? await client.post("/v1/me/authorisations", headers: headers, body: jsonBody(body))
                    if kill {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 0...25)))
                        server.child.signal(SIGKILL)
                        kills += 1
                    }
                    let response = await reply
                    try? await client.shutdown()
                    if kill || response == nil {
                        _ = try? await server.wait()
                        server = try ServerProcess.start(environment: environment)
                        port = try await server.waitForPort()
                    }
                    if let response {
                        #expect(response.status == .created || response.status == .conflict, "write \(i): \(response.status)")
                        answered = response.status == .created
                        if response.status == .conflict { try await Task.sleep(for: .milliseconds(50)) }
                    }
                }
                #expect(answered, "write \(i) never answered")
            }
            #expect(kills >= 8)
            let effects: Int = try await db.owner.scalar("SELECT count(*)::int FROM authorisation WHERE purpose = 'credit_line_review'")
            let records: Int = try await db.owner.scalar("SELECT count(*)::int FROM idempotency_key")
            #expect(effects == writes, "lost or doubled: \(effects) effects for \(writes) writes")
            #expect(records == writes)
            #expect(try await server.terminate() == 0)
        }
    }

    /// Ingestion that is stuck says so in `/readyz` (which stays ready for traffic): a dataset
    /// retrying without storing anything for long, and one that failed.
    @Test func readinessNamesStuckIngestion() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await db.owner.execute(
                """
                INSERT INTO feed_state (dataset, provider, status, last_attempt_at, last_success_at, stop_message) VALUES
                    ('tax_filing', 'tax', 'running', now(), now() - interval '1 hour', 'attempt 5 failed: timed out'),
                    ('utility_bill', 'utilities', 'failing', now(), now() - interval '2 hours', 'gave up after 8 attempts; last: HTTP 503'),
                    ('social_insurance', 'hrss', 'running', now(), now(), NULL)
                ON CONFLICT (dataset) DO UPDATE SET status = excluded.status, last_attempt_at = excluded.last_attempt_at,
                    last_success_at = excluded.last_success_at, stop_message = excluded.stop_message
                """
            )
            try await w.app(db, ["XYD_INGEST_INTERVAL_S": "5", "XYD_INGEST_TIMEOUT_S": "1", "XYD_INGEST_ATTEMPTS": "1"]).test(.router) {
                client in
                let r = try await client.execute(uri: "/readyz", method: .get)
                #expect(r.status == .ok)
                struct Ready: Decodable {
                    let status: String
                    let ingestion: [String]?
                }
                let ready = try decodeJSON(Ready.self, r)
                #expect(ready.ingestion?.count == 2, "\(ready.ingestion ?? [])")
                #expect(ready.ingestion?.first?.hasPrefix("tax_filing: no page stored since") == true)
                #expect(ready.ingestion?.last?.hasPrefix("utility_bill: failing (gave up") == true)
            }
        }
    }

    /// A PostgreSQL cluster of this test's own (the shared one serves every other test), run as
    /// the `postgres` user when the tests run as root, as `ops/` does.
    struct OwnCluster {
        let folder: String
        let port: Int
        static var bin: String {
            (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last.map {
                "/usr/lib/postgresql/\($0)/bin"
            } ?? ""
        }
        var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable" }

        static func run(_ tool: String, _ arguments: [String]) async throws -> (Int32, String) {
            let asPostgres = getuid() == 0
            let child = try ChildProcess.launch(
                asPostgres ? "runuser" : "\(bin)/\(tool)",
                asPostgres ? ["-u", "postgres", "--", "\(bin)/\(tool)"] + arguments : arguments
            )
            let status = try await child.wait()
            return (status, child.output() + child.errorOutput())
        }

        static func create() async throws -> OwnCluster {
            let folder = "/tmp/xyd-pg-fault-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            if getuid() == 0 { _ = try await ChildProcess.launch("chown", ["postgres", folder]).wait() }
            let (initStatus, initOut) = try await run(
                "initdb",
                ["-D", folder + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
            )
            guard initStatus == 0 else { throw TestSetupError("initdb failed: \(initOut)") }
            let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
            }
            close(socket)
            return OwnCluster(folder: folder, port: Int(UInt16(bigEndian: address.sin_port)))
        }

        /// Started with its output to its log, not to this process's pipes: the server it leaves
        /// running would hold them open.
        func start() async throws {
            let command =
                (getuid() == 0 ? "runuser -u postgres -- " : "")
                + "\(Self.bin)/pg_ctl -D \(folder)/data -l \(folder)/log -w -t 60 -o '-p \(port) -c listen_addresses=127.0.0.1 -k \(folder) -c max_connections=50' start"
                + " >>\(folder)/ctl.log 2>&1 </dev/null"
            // Through Python's subprocess, which closes every other descriptor: the server must not
            // inherit one this process is waiting on.
            let status = try await ChildProcess.launch(
                "python3",
                ["-c", "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1], shell=True, close_fds=True).returncode)", command]
            ).wait()
            guard status == 0 else {
                throw TestSetupError("pg_ctl start failed: \((try? String(contentsOfFile: folder + "/ctl.log", encoding: .utf8)) ?? "")")
            }
        }

        /// An immediate stop: the server process ends at once, as in a crash.
        func crash() async throws { _ = try await Self.run("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "stop"]) }

        func remove() async {
            _ = try? await Self.run("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "stop"])
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// The database stops dead under load and comes back: meanwhile every database route answers
    /// 503 with Retry-After and `/readyz` says "database unavailable" — quickly, not after the
    /// outage — and once it is back the same `xyd serve` answers again without a restart.
    @Test func theDatabaseCrashesAndComesBackAndTheServerRecoversOnItsOwn() async throws {
        let cluster = try await OwnCluster.create()
        do {
            try await cluster.start()
            let env = ["XYD_DATABASE_URL": cluster.url, "XYD_MIGRATIONS_DIR": TestEnvironment.migrationsDirectory]
            #expect(try await ChildProcess.xyd(["migrate"], environment: env).wait() == 0)
            let org = try ChildProcess.xyd(["org", "create", "--kind", "bank", "--name", "Fault bank"], environment: env)
            _ = try await org.wait()
            let orgId = org.output().trimmingCharacters(in: .whitespacesAndNewlines)
            let issue = try ChildProcess.xyd(["key", "issue", "--org", orgId], environment: env)
            _ = try await issue.wait()
            let key = issue.output().trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(key.hasPrefix("xyd_"), "\(issue.output())")
            let server = try ServerProcess.start(
                environment: env.merging(["XYD_HTTP_PORT": "0", "XYD_DB_ACQUIRE_TIMEOUT_MS": "1000"]) { $1 }
            )
            let port = try await server.waitForPort()
            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            #expect(try await client.get("/v1/me", headers: bearer(key)).status == .ok)

            try await cluster.crash()
            let clock = ContinuousClock()
            let down = clock.now
            let refused = try await client.get("/v1/me", headers: bearer(key))
            let readyz = try await client.get("/readyz")
            let answeredIn = clock.now - down
            #expect(refused.status == .serviceUnavailable, "\(String(buffer: refused.body ?? ByteBuffer()))")
            #expect(refused.headers[.retryAfter] != nil)
            #expect(readyz.status == .serviceUnavailable && String(buffer: readyz.body ?? ByteBuffer()).contains("database unavailable"))

            try await cluster.start()
            let back = clock.now
            try await eventually("the server answers again", limit: .seconds(60)) {
                (try? await client.get("/v1/me", headers: bearer(key)).status) == .ok
            }
            let recoveredIn = clock.now - back
            #expect(try await client.get("/readyz").status == .ok)
            print(
                "fault: database down — 503 and /readyz answered within \(answeredIn); recovered \(recoveredIn) after the database was back"
            )
            try await client.shutdown()
            #expect(try await server.terminate() == 0)
        } catch {
            await cluster.remove()
            throw error
        }
        await cluster.remove()
    }
}
