import CreditCore
import Foundation
import Store

/// Callers by key hash, for the hot routes whose statement checks the key again (so a
/// revoked or expired key is refused at once all the same). Bounded in size and age.
public final class KeyCache: Sendable {
    public static let capacity = 10_000
    public static let maxAgeSeconds: Double = 30

    let entries = Locked<[Data: (principal: Principal, at: Date)]>([:])

    public init() {}

    func get(_ hash: Data) -> Principal? {
        entries.withLock { e in
            guard let hit = e[hash] else { return nil }
            guard Date().timeIntervalSince(hit.at) < Self.maxAgeSeconds else {
                e[hash] = nil
                return nil
            }
            return hit.principal
        }
    }

    func put(_ hash: Data, _ p: Principal) {
        entries.withLock { e in
            if e.count >= Self.capacity { e.removeAll(keepingCapacity: true) }
            e[hash] = (p, Date())
        }
    }

    /// Forgets every entry of a key (after its statement found it revoked or expired).
    func evict(keyId: UUID) {
        entries.withLock { e in e = e.filter { $0.value.principal.keyId != keyId } }
    }
}
