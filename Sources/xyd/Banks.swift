import ArgumentParser
import CreditCore
import Foundation
import Server
import Store

struct BanksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "banks",
        abstract: "The city's banks as the regulators' figures count them.",
        subcommands: [Roster.self]
    )

    struct Roster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The roster of the city's licensed bank branches: the denominator of \"banks connected\".",
            subcommands: [Import.self]
        )

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Replace the roster with a CSV file (header licence_no,branch_name,bank_name,district_code; bank_name as the bank is registered here)."
            )
            @OptionGroup var settings: SettingOptions
            @Argument(help: "The roster (CSV, UTF-8).") var file: String

            func run() async throws {
                let config = try settings.load()
                guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                    fail("cannot read \(file) as UTF-8 text", status: ExitStatus.configuration)
                }
                let branches: [BankRoster.Branch]
                switch BankRoster.parse(text) {
                case .success(let b): branches = b
                case .failure(let problems):
                    fail("\(file):\n  " + problems.lines.prefix(20).joined(separator: "\n  "), status: ExitStatus.configuration)
                }
                let imported = await withDatabase(config) { db in try await BankRosterStore.replace(db, branches) }
                print(
                    "bank roster: \(imported.branches) branches of \(imported.registered.count + imported.unregistered.count) banks imported; "
                        + "\(imported.registered.count) of the banks are registered here"
                )
                if !imported.unregistered.isEmpty {
                    print("not registered here (their branches count as not connected): " + imported.unregistered.joined(separator: ", "))
                }
            }
        }
    }
}
