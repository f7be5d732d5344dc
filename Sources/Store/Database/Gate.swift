import CreditCore
import Logging
import ServiceLifecycle

/// Opens once; `wait()` returns when it is open or the waiting task is cancelled.
public final class Gate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let opened = Locked(false)

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self)
    }

    public func open() {
        opened.withLock { $0 = true }
        continuation.finish()
    }

    public var isOpen: Bool { opened.withLock { $0 } }

    public func wait() async {
        for await _ in stream {}
    }
}
