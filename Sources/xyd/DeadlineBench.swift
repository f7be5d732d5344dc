import ArgumentParser
import Foundation
import Store

/// `ops/bench deadline`: what answering every request within `XYD_REQUEST_TIMEOUT_S` costs —
/// `Deadline.run` (a task for the work, one for the timer, a continuation) around a piece of
/// work that suspends once, against the same work called directly, in the same run.
struct DeadlineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadline-bench",
        abstract: "Benchmark: the cost of the request deadline per call (prints figures)."
    )
    @Option(help: "Calls per round.") var calls = 100_000
    @Option(help: "Rounds (the median is printed).") var rounds = 5
    @Option(help: "Calls in flight at once (as requests are).") var concurrency = 64

    /// The stand-in for a request's work: suspends once, as any database call does.
    @Sendable static func work() async -> Int {
        await Task.yield()
        return 1
    }

    func round(deadline: Bool) async throws -> Duration {
        let clock = ContinuousClock()
        let (calls, concurrency) = (self.calls, self.concurrency)
        return try await clock.measure {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for lane in 0..<concurrency {
                    group.addTask {
                        var sum = 0
                        for _ in stride(from: lane, to: calls, by: concurrency) {
                            sum += deadline ? try await Deadline.run(.seconds(60), Self.work) : await Self.work()
                        }
                        return sum
                    }
                }
                var total = 0
                for try await n in group { total += n }
                precondition(total == calls)
            }
        }
    }

    func run() async throws {
        guard calls > 0, rounds > 0, concurrency > 0 else { throw ValidationError("calls, rounds and concurrency must be positive") }
        var direct: [Double] = []
        var wrapped: [Double] = []
        func micros(_ d: Duration) -> Double {
            let (s, a) = d.components
            return (Double(s) * 1e6 + Double(a) / 1e12) / Double(calls)
        }
        for r in 1...rounds {
            direct.append(micros(try await round(deadline: false)))
            wrapped.append(micros(try await round(deadline: true)))
            print(String(format: "round %d: direct %.2f µs/call, within a deadline %.2f µs/call", r, direct.last!, wrapped.last!))
        }
        let d = direct.sorted()[rounds / 2]
        let w = wrapped.sorted()[rounds / 2]
        print(
            String(
                format:
                    "median of %d rounds of %d calls (%d in flight): direct %.2f µs, within a deadline %.2f µs, cost %.2f µs per call (%.1fx)",
                rounds,
                calls,
                concurrency,
                d,
                w,
                w - d,
                w / d
            )
        )
    }
}
