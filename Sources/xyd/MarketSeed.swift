import ArgumentParser
import CreditCore
import Foundation
import PostgresNIO
import Simulator
import Store

/// `xyd simulate-market`: writes a year of marketplace history behind the simulated city —
/// demands, the banks' answers, disbursements, monthly outcomes — so that the regulators'
/// statistics have something to say (the demo, the statistics benchmark). Runs once per
/// database; a second run says so and writes nothing.
struct SimulateMarket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-market",
        abstract: "Write simulated marketplace history (demands, decisions, disbursements, outcomes) for the simulated city, once."
    )
    @OptionGroup var settings: SettingOptions
    @Option(help: "The city's seed (as given to xyd simulate).") var seed: UInt64 = 1
    @Option(help: "The city's size (as given to xyd simulate).") var enterprises = 3_000
    @Option(help: "Months of history, ending this month.") var months = 12
    @Option(help: "Demands posted in the first month (the market grows 4% a month); default 1% of the city.") var perMonth: Int?
    @Option(help: "The city's day (YYYY-MM-DD), default today in China.") var day: String?

    /// Rows written per statement.
    static let batch = 500

    func validate() throws {
        if enterprises < 1 { throw ValidationError("--enterprises: at least 1") }
        if !(1...60).contains(months) { throw ValidationError("--months: 1 to 60") }
        if let day, Day(day) == nil { throw ValidationError("--day: a date YYYY-MM-DD") }
    }

    func run() async throws {
        let config = try settings.load()
        let today = day.flatMap(Day.init) ?? Day.todayInChina()
        await withDatabase(config) { db in
            let logger = db.logger
            let already = try await db.withConnection { c in try await MarketHistoryStore.written(c, logger: logger) }
            if already > 0 {
                FileHandle.standardError.write(Data("simulate-market: history already written (\(already) demands); nothing to do\n".utf8))
                return
            }
            let (grades, banks) = try await db.withConnection { c in try await MarketHistoryStore.gradesAndBanks(c, logger: logger) }
            guard !banks.isEmpty else { fail("simulate-market: no bank has a published product yet (ops/run seeds them)") }
            guard !grades.isEmpty else { fail("simulate-market: no profiles yet: ingest and rescore first") }
            let city = City(seed: seed, enterprises: enterprises, asOf: today)
            let plan = MarketHistory.plan(
                city: city,
                grades: grades,
                banks: banks.count,
                months: months,
                perMonth: perMonth ?? max(10, enterprises / 100),
                today: today,
                seed: seed
            )
            let started = Date()
            for start in stride(from: 0, to: plan.count, by: Self.batch) {
                let part = Array(plan[start..<min(plan.count, start + Self.batch)])
                try await db.withTransaction { c in try await MarketHistoryStore.write(c, logger: logger, part, banks: banks) }
                FileHandle.standardError.write(Data("simulate-market: \(min(plan.count, start + Self.batch))/\(plan.count) demands\n".utf8))
            }
            let disbursed = plan.filter { $0.state == "disbursed" }.count
            print(
                "simulate-market: \(plan.count) demands over \(months) months, \(disbursed) disbursed, "
                    + "\(plan.reduce(0) { $0 + $1.outcomes.count }) monthly outcomes, in \(Int(Date().timeIntervalSince(started))) s"
            )
        }
    }
}

/// `xyd stats refresh`: rebuilds the regulators' summary tables now (the server does it every
/// XYD_STATS_REFRESH_S), printing how long each took.
struct StatsRefresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats-refresh",
        abstract: "Rebuild the regulators' summary tables now (xyd serve does it on a schedule)."
    )
    @OptionGroup var settings: SettingOptions

    func run() async throws {
        let config = try settings.load()
        let took = await withDatabase(config) { db in try await Stats.refresh(db) }
        print("statistics refreshed: " + took.map { "\($0.0) \($0.1) ms" }.joined(separator: ", "))
    }
}
