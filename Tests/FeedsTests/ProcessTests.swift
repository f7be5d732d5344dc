import CreditCore
import Curl
import Feeds
import Foundation
import Simulator
import Store
import TestSupport
import Testing

/// The `xyd ingest` command as an operator runs it: killed mid-ingest and restarted, and its
/// exit statuses.
@Suite struct IngestProcessTests {
    func writeProviders(_ file: ProvidersFile) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("providers-\(UUID().uuidString).json").path
        let encoder = JSONEncoder()
        try encoder.encode(file).write(to: URL(fileURLWithPath: path))
        return path
    }

    func environment(_ db: TestDatabase) -> [String: String] {
        ["XYD_DATABASE_URL": db.appURL.urlString, "XYD_DATA_KEY": SimHarness.dataKey, "XYD_LOG_LEVEL": "error"]
    }

    @Test func killedAtRandomPointsAndRestartedTheResultIsTheSameWithNoDuplicates() async throws {
        try await SimHarness.with(enterprises: 250, seed: 21, faults: 0.05) { sim in
            let path = try writeProviders(sim.providers)
            defer { try? FileManager.default.removeItem(atPath: path) }
            // The reference: one uninterrupted run.
            let reference: Int = try await TestDatabase.with { clean in
                let curl = CurlClient()
                defer { curl.shutdown() }
                _ = try await sim.ingestor(clean.app, curl: curl).runOnce()
                return try await clean.owner.scalar("SELECT count(*)::int FROM record_version")
            }
            try await TestDatabase.with { db in
                var kills = 0
                var delay = 150
                while kills < 6 {
                    let child = try ChildProcess.xyd(
                        ["ingest", "--providers", path, "--once", "--page-limit", "200"],
                        environment: environment(db)
                    )
                    try await Task.sleep(for: .milliseconds(delay + Int.random(in: 0...200)))
                    if child.process.isRunning {
                        child.signal(SIGKILL)
                        kills += 1
                    }
                    _ = try await child.wait()
                    delay += 150
                    if kills == 0 && delay > 3_000 { break }
                    if delay > 30_000 { break }  // restarts that never run long enough to be killed: fail below, do not loop
                }
                #expect(kills >= 5, "the ingest finished before it could be killed 5 times")
                let last = try ChildProcess.xyd(["ingest", "--providers", path, "--once", "--json"], environment: environment(db))
                #expect(try await last.wait() == 0, "\(last.output())")
                #expect(try await held(db.app) == truth(sim))
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM record_version") == reference)
                let duplicateQuarantine: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM (SELECT 1 FROM quarantine GROUP BY dataset, raw HAVING count(*) > 1) x"
                )
                #expect(duplicateQuarantine == 0)
            }
        }
    }

    @Test func errorsThatRetryingCannotFixExitWith2AndSaySo() async throws {
        try await SimHarness.with(enterprises: 10, seed: 22) { sim in
            var file = sim.providers
            for i in file.providers.indices where file.providers[i].name == "credit" { file.providers[i].appSecret = "wrong" }
            for i in file.providers.indices where file.providers[i].name == "contracts" {
                file.providers[i].baseURL = sim.base + "/elsewhere"
            }
            let path = try writeProviders(file)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try await TestDatabase.with { db in
                let child = try ChildProcess.xyd(["ingest", "--providers", path, "--once", "--json"], environment: environment(db))
                #expect(try await child.wait() == 2)
                let out = child.output()
                #expect(out.contains("provider credit stopped: HTTP 401 bad_signature"))
                #expect(out.contains("contract_performance stopped: HTTP 404"))
                let json = try #require(out.split(separator: "\n").last { $0.hasPrefix("{\"datasets\"") })
                #expect(json.contains(#""outcome":"stopped""#) && json.contains(#""outcome":"caught_up""#))
                // Nothing personal in what the command printed.
                #expect(!out.contains(sim.city.enterprise(0).legalRepID))
            }
        }
    }

    @Test func serveWithAProvidersFilePullsOnItsOwnAndStopsGracefully() async throws {
        try await SimHarness.with(enterprises: 30, seed: 23) { sim in
            let path = try writeProviders(sim.providers)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try await TestDatabase.with { db in
                var env = environment(db)
                env["XYD_PROVIDERS_FILE"] = path
                env["XYD_INGEST_INTERVAL_S"] = "5"
                env["XYD_HTTP_PORT"] = "0"
                env["XYD_MIGRATIONS_DIR"] = TestEnvironment.migrationsDirectory
                let server = try ChildProcess.xyd(["serve"], environment: env)
                // Bounded wait for the first scheduled pass to catch every dataset up.
                var caughtUp = 0
                for _ in 0..<600 where caughtUp < Dataset.allCases.count {
                    try await Task.sleep(for: .milliseconds(100))
                    caughtUp = try await db.owner.scalar("SELECT count(*)::int FROM feed_state WHERE status = 'caught_up'")
                    if !server.process.isRunning { break }
                }
                #expect(caughtUp == Dataset.allCases.count, "\(server.output())")
                server.signal(SIGTERM)
                #expect(try await server.wait() == 0)
                #expect(try await held(db.app) == truth(sim))
            }
        }
    }

    /// A provider that accepts connections and never answers: its datasets retry and say so,
    /// the other providers' datasets keep their own schedule, and SIGTERM ends the server
    /// within its bound although a transfer hangs (issue 16, findings 5 and 6).
    static let hangingServer = """
        import socket, sys, time
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
        print(s.getsockname()[1], flush=True)
        held = []
        while True:
            c, _ = s.accept(); held.append(c)
        """

    @Test func aHangingProviderHoldsOnlyItsOwnDatasetsAndShutdownIsBounded() async throws {
        try await SimHarness.with(enterprises: 30, seed: 24) { sim in
            let hang = try ChildProcess.launch("python3", ["-u", "-c", Self.hangingServer])
            defer { hang.signal(SIGKILL) }
            var port = 0
            for _ in 0..<200 where port == 0 {
                port = Int(hang.output().trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                if port == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(port > 0, "the hanging server did not start: \(hang.errorOutput())")
            var file = sim.providers
            for i in file.providers.indices where file.providers[i].name == "tax" {
                file.providers[i].baseURL = "http://127.0.0.1:\(port)/tax"
            }
            let hanging = Set(file.providers.first { $0.name == "tax" }!.datasets)
            #expect(!hanging.isEmpty)
            let path = try writeProviders(file)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try await TestDatabase.with { db in
                var env = environment(db)
                env["XYD_PROVIDERS_FILE"] = path
                env["XYD_INGEST_INTERVAL_S"] = "5"
                env["XYD_INGEST_TIMEOUT_S"] = "2"
                env["XYD_INGEST_ATTEMPTS"] = "100"
                env["XYD_SHUTDOWN_TIMEOUT_S"] = "3"
                env["XYD_HTTP_PORT"] = "0"
                env["XYD_MIGRATIONS_DIR"] = TestEnvironment.migrationsDirectory
                let server = try ChildProcess.xyd(["serve"], environment: env)
                let healthy = Dataset.allCases.map(\.rawValue).filter { !hanging.contains($0) }
                func caughtUp() async throws -> [String: Date] {
                    try await db.owner.withConnection { c in
                        var out: [String: Date] = [:]
                        for try await (d, at) in try await c.query(
                            "SELECT dataset, caught_up_at FROM feed_state WHERE caught_up_at IS NOT NULL",
                            logger: db.owner.logger
                        ).decode((String, Date).self) { out[d] = at }
                        return out
                    }
                }
                // Every healthy dataset caught up, then caught up again on its own schedule
                // while the tax provider still hangs.
                var first: [String: Date] = [:]
                try await eventually("the healthy datasets caught up", limit: .seconds(90)) {
                    first = try await caughtUp()
                    return healthy.allSatisfy { first[$0] != nil } || !server.process.isRunning
                }
                try await eventually("the healthy datasets pulled again", limit: .seconds(90)) {
                    let again = try await caughtUp()
                    return healthy.allSatisfy { d in again[d].map { $0 > first[d]! } ?? false } || !server.process.isRunning
                }
                #expect(server.process.isRunning, "\(server.output())")
                // The hanging datasets say they are being retried, and why.
                try await eventually("the hanging datasets show their failed attempts", limit: .seconds(60)) {
                    let retrying: Int = try await db.owner.scalar(
                        """
                        SELECT count(*)::int FROM feed_state WHERE provider = 'tax' AND status = 'running' AND stop_message LIKE 'attempt % failed:%'
                        """
                    )
                    return retrying == hanging.count
                }
                // SIGTERM while transfers hang: the server still ends, and cleanly.
                server.signal(SIGTERM)
                #expect(try await server.wait() == 0, "\(server.output())")
            }
        }
    }

    @Test func aBadProvidersFileIsRefusedWithTheFieldToFix() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json").path
        try
            #"{"providers":[{"name":"tax","base_url":"ftp://x","app_key":"k","app_secret_env":"NOPE_NOT_SET","datasets":["utility_bill"]}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let child = try ChildProcess.xyd(
            ["ingest", "--providers", path, "--once"],
            environment: ["XYD_DATABASE_URL": "postgres://u@127.0.0.1/x"]
        )
        #expect(try await child.wait() == 78)
        let out = child.output()
        #expect(out.contains("base_url"))
        #expect(out.contains("NOPE_NOT_SET"))
        #expect(out.contains("utility_bill belongs to utilities"))
    }
}
