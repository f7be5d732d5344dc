import ArgumentParser
import Foundation
import Server
import Store

struct FeedsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feeds",
        abstract: "Ingestion data quality.",
        subcommands: [Status.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per dataset: state, last successful pull, lag, items received, stored, stale, withdrawn, quarantined by reason."
        )
        @OptionGroup var settings: SettingOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let config = try settings.load()
            let rows = await withDatabase(config) { db in try await IngestStore.status(db) }
            if json {
                printJSON(rows)
                return
            }
            if rows.isEmpty {
                print("no dataset has been pulled yet (xyd ingest --providers FILE)")
                return
            }
            let now = Date()
            print(
                "dataset                  status      last pull  lag (days)  received    stored   stale  withdrawn  quarantined      live"
            )
            for r in rows {
                let since = r.lastSuccessAt.map { "\(Int(now.timeIntervalSince($0)))s ago" } ?? "never"
                let lag = r.newestItemAt.map { String(Int(now.timeIntervalSince($0) / 86_400)) } ?? "-"
                var line = r.dataset.padding(toLength: 25, withPad: " ", startingAt: 0)
                line += r.status.padding(toLength: 12, withPad: " ", startingAt: 0)
                line += since.padding(toLength: 11, withPad: " ", startingAt: 0)
                line += lag.padding(toLength: 10, withPad: " ", startingAt: 0)
                line += countColumns([r.received, r.stored, r.stale, r.withdrawn, r.quarantined, r.live])
                print(line)
                if let code = r.stopCode { print("    stopped: \(code) — \(r.stopMessage ?? "")") }
                if let worker = r.pulledBy { print("    being pulled by worker \(worker)") }
                for (reason, n) in r.quarantineByReason.sorted(by: { $0.value > $1.value }) {
                    print("    quarantined \(n) × \(reason)")
                }
            }
        }
    }
}
