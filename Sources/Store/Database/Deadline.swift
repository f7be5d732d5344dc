import CreditCore
import Foundation

/// Work answered within a deadline whatever happens underneath: the work runs as a task of its
/// own, raced against the deadline; past it the caller gets `Expired` and the work is cancelled,
/// finishing (or not) on its own. The database calls have deadlines of their own, but one of them
/// cannot always free its caller: PostgresNIO 1.37 can lose a query written to a connection whose
/// server vanished in that instant (a failover) — the query is neither answered nor failed, so a
/// structured deadline would wait for it forever. Used for every HTTP request (`XYD_REQUEST_TIMEOUT_S`)
/// and every turn of the background jobs (`PeriodicService`).
public enum Deadline {
    public struct Expired: Error, CustomStringConvertible {
        public var description: String { "did not finish within its deadline" }
    }

    public static func run<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiting = Locked<CheckedContinuation<T, any Error>?>(nil)
        let tasks = Locked<(work: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))
        @Sendable func finish(_ result: Result<T, any Error>) {
            guard
                let c = waiting.withLock({ w -> CheckedContinuation<T, any Error>? in
                    defer { w = nil }
                    return w
                })
            else { return }
            c.resume(with: result)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
                waiting.withLock { $0 = c }
                let timer = Task {
                    try? await Task.sleep(for: limit)
                    guard !Task.isCancelled else { return }
                    finish(.failure(Expired()))
                    tasks.withLock { $0.work?.cancel() }
                }
                let job = Task {
                    do { finish(.success(try await work())) } catch { finish(.failure(error)) }
                    tasks.withLock { $0.timer?.cancel() }
                }
                tasks.withLock { $0 = (job, timer) }
            }
        } onCancel: {
            tasks.withLock { t in
                t.work?.cancel()
                t.timer?.cancel()
            }
        }
    }
}
