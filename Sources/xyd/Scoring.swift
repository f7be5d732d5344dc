import ArgumentParser
import CreditCore
import Foundation
import Server
import Store

struct ScorecardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorecard",
        abstract: "Scorecards: publish a version, list them.",
        subcommands: [Publish.self, List.self]
    )

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check a scorecard file, store it, and make it the active version (every profile is then recomputed by the profile service or `xyd rescore`)."
        )
        @OptionGroup var settings: SettingOptions
        @Argument(help: "The scorecard file (JSON, see contracts/scorecards/).") var file: String
        @Flag(help: "Store it without making it active.") var noActivate = false

        func run() async throws {
            let config = try settings.load()
            guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
            let card: Scorecard
            do {
                card = try Scorecard.decode(data)
                try card.checkPublishable()
            } catch { fail("\(file): \(error)", status: ExitStatus.configuration) }
            let activate = !noActivate
            let result = await withDatabase(config) { db in
                do {
                    return try await Scorecards.publish(db, card: card, file: data, activate: activate)
                } catch let e as Scorecards.PublishError {
                    fail(e.description)
                }
            }
            print(
                "scorecard \(card.version): \(result.new ? "published" : "already published")"
                    + (activate ? ", active; \(result.queued) enterprises queued for rescoring" : "")
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The published scorecards, the active one marked.")
        @OptionGroup var settings: SettingOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let config = try settings.load()
            let cards = await withDatabase(config) { db in try await Scorecards.list(db) }
            if json {
                printJSON(cards)
                return
            }
            if cards.isEmpty { print("no scorecard published yet (xyd scorecard publish FILE)") }
            for c in cards { print("\(c.active ? "*" : " ") \(c.version)  published \(c.publishedAt)  sha256 \(c.sha256.prefix(16))…") }
        }
    }
}

struct Rescore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every enterprise's profile with the active scorecard from one snapshot of the records, showing progress."
    )
    @OptionGroup var settings: SettingOptions
    @Option(help: "End the feature windows on this day (YYYY-MM-DD) instead of today in China.") var day: String?
    @Flag(help: "Print a JSON summary as the last line.") var json = false

    func validate() throws {
        if let day, Day(day) == nil { throw ValidationError("--day: a date YYYY-MM-DD") }
    }

    struct Summary: Encodable {
        let enterprises: Int
        let seconds: Double
        let perSecond: Int
        let grades: [String: Int]
    }

    func run() async throws {
        let config = try settings.load()
        let windowDay = day.flatMap(Day.init)
        let tty = isatty(2) == 1
        let summary = await withDatabase(config) { db in
            let card = try await db.withConnection { c in try await ScorecardCache().active(c, logger: db.logger) }
            guard let card else { fail("no scorecard is active: xyd scorecard publish contracts/scorecards/FILE") }
            let started = Date()
            let aggregated = Locked(0)
            let (written, _) = try await ProfileStore.rescoreAll(db, card: card, day: windowDay) { p in
                let line: String
                switch p.phase {
                case .aggregating(let d):
                    let n = aggregated.withLock {
                        $0 += 1
                        return $0
                    }
                    line = "rescoring: aggregated \(d.rawValue) (\(n)/\(Dataset.allCases.count))"
                case .writing(let done, let total):
                    line = "rescoring: \(done)/\(total) profiles written"
                }
                FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
            }
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let seconds = Date().timeIntervalSince(started)
            let grades = try await db.withConnection { c in try await ProfileStore.gradeCounts(c, logger: db.logger) }
            return Summary(
                enterprises: written,
                seconds: (seconds * 100).rounded() / 100,
                perSecond: seconds > 0 ? Int(Double(written) / seconds) : written,
                grades: grades
            )
        }
        let shown = ["A", "B", "C", "D", "thin_file"].map { "\($0) \(summary.grades[$0] ?? 0)" }.joined(separator: ", ")
        FileHandle.standardError.write(
            Data("rescored \(summary.enterprises) enterprises in \(summary.seconds) s (\(summary.perSecond)/s): \(shown)\n".utf8)
        )
        if json { printJSON(summary, pretty: false) }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Signed credit reports: check one offline.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a downloaded report against the service's public key (GET /v1/signing-key). Exit 0 when valid, 1 when not."
        )
        @Argument(help: "The report file, as downloaded ({\"report\": …, \"signature\": …}).") var file: String
        @Option(help: "The public key: base64 of the 32-byte Ed25519 key, or a file holding it.") var publicKey: String

        func run() async throws {
            guard let bytes = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
            var key = publicKey
            if let fromFile = FileManager.default.contents(atPath: publicKey) {
                key = String(decoding: fromFile, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let (valid, reason) = ReportSigner.verifyDocument(Array(bytes), publicKeyBase64: key)
            if valid {
                print("valid: \(reason)")
            } else {
                fail("NOT valid: \(reason)")
            }
        }
    }
}
