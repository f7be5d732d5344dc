import CreditCore
import Foundation

/// Every request is answered within a deadline: past it the caller gets `503 not-ready` with
/// `Retry-After`, and the work, cancelled, finishes (or not) on its own. The database calls have
/// deadlines of their own, but one of them cannot always free its caller: PostgresNIO 1.37 can
/// lose a query written to a connection whose server vanished in that instant (a failover), and
/// such a query is neither answered nor failed. Run as a task of its own, such work cannot hold
/// the request past this deadline.
enum RequestDeadline {
    static let defaultSeconds = 60

    struct Expired: Error {}

    static func run<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
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
