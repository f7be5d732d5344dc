import CreditCore
import Foundation
import PostgresNIO
import Testing
import TestSupport
@testable import Store

@Suite struct AuditTests {
    func write(_ db: Database, count: Int, prefix: String = "test") async throws {
        for i in 0..<count {
            try await db.withTransaction { c in
                try await Audit.record(
                    on: c, logger: db.logger,
                    AuditEntry(actorKind: "bank", action: "\(prefix).\(i)", route: "GET /test",
                               subjectUSCC: "91350100M000100Y43", purpose: "loan_application", result: .allowed,
                               detail: ["n": "\(i)"]))
            }
        }
    }

    @Test func aSealedChainVerifies() async throws {
        try await TestDatabase.with { db in
            try await write(db.app, count: 25)
            let sealed = try await Audit.sealAll(db.app, batch: 7)
            #expect(sealed == 25)
            let v = try await Audit.verify(db.app)
            #expect(v == Audit.Verification(verified: 25, unsealed: 0, firstBreak: nil))
            // More rows later extend the same chain.
            try await write(db.app, count: 5, prefix: "later")
            #expect(try await Audit.verify(db.app).unsealed == 5)
            _ = try await Audit.sealAll(db.app)
            #expect(try await Audit.verify(db.app).verified == 30)
        }
    }

    @Test func anEditedRowIsFoundAtItsPosition() async throws {
        try await TestDatabase.with { db in
            try await write(db.app, count: 10)
            _ = try await Audit.sealAll(db.app)
            let id: Int64 = try await db.owner.scalar("SELECT log_id FROM audit_seal WHERE chain_seq = 6")
            try await db.owner.execute("UPDATE audit_log SET purpose = 'credit_line_review' WHERE id = \(id)")
            let v = try await Audit.verify(db.app)
            #expect(v.verified == 5)
            #expect(v.firstBreak == Audit.Break(chainSeq: 6, logId: id, reason: "audit row changed after it was sealed"))
        }
    }

    @Test func aDeletedRowIsFoundAtItsPosition() async throws {
        try await TestDatabase.with { db in
            try await write(db.app, count: 10)
            _ = try await Audit.sealAll(db.app)
            let id: Int64 = try await db.owner.scalar("SELECT log_id FROM audit_seal WHERE chain_seq = 3")
            try await db.owner.execute("DELETE FROM audit_log WHERE id = \(id)")
            let v = try await Audit.verify(db.app)
            #expect(v.firstBreak == Audit.Break(chainSeq: 3, logId: id, reason: "audit row deleted"))
        }
    }

    @Test func aRemovedSealOrTruncatedTailIsFound() async throws {
        try await TestDatabase.with { db in
            try await write(db.app, count: 10)
            _ = try await Audit.sealAll(db.app)
            try await db.owner.execute("DELETE FROM audit_seal WHERE chain_seq = 4")
            #expect(try await Audit.verify(db.app).firstBreak?.chainSeq == 4)
        }
        try await TestDatabase.with { db in
            try await write(db.app, count: 10)
            _ = try await Audit.sealAll(db.app)
            try await db.owner.execute("DELETE FROM audit_seal WHERE chain_seq = 10")
            try await db.owner.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
            let v = try await Audit.verify(db.app)
            #expect(v.firstBreak?.reason.contains("chain head") == true)
        }
    }

    @Test func aRowSlippedInWithoutItsQueueEntryIsFound() async throws {
        try await TestDatabase.with { db in
            try await write(db.app, count: 3)
            _ = try await Audit.sealAll(db.app)
            try await write(db.app, count: 1, prefix: "sneaky")
            try await db.owner.execute("DELETE FROM audit_unsealed")
            let v = try await Audit.verify(db.app)
            #expect(v.firstBreak?.reason == "audit row is neither sealed nor queued for sealing")
        }
    }

    @Test func theApplicationRoleCannotChangeOrRemoveAuditRows() async throws {
        try await TestDatabase.with { db in
            try await write(db.app, count: 2)
            _ = try await Audit.sealAll(db.app)
            for sql in [
                "UPDATE audit_log SET action = 'x'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
                "UPDATE audit_seal SET hash = prev_hash",
                "DELETE FROM audit_seal",
                "TRUNCATE audit_seal",
            ] {
                await #expect("\(sql) must be refused to xyd_app") {
                    try await db.app.execute(sql)
                } throws: { error in
                    (error as? PSQLError)?.sqlState == "42501"  // insufficient_privilege
                }
            }
            #expect(try await Audit.verify(db.app).ok)
        }
    }

    @Test func concurrentWritersAndSealersKeepOneIntactChain() async throws {
        try await TestDatabase.with { db in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<6 { group.addTask { try await write(db.app, count: 40, prefix: "w\(w)") } }
                for _ in 0..<2 {
                    group.addTask {
                        for _ in 0..<20 {
                            _ = try await Audit.sealBatch(db.app, batch: 13)
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                try await group.waitForAll()
            }
            _ = try await Audit.sealAll(db.app)
            let v = try await Audit.verify(db.app)
            #expect(v == Audit.Verification(verified: 240, unsealed: 0, firstBreak: nil))
            let sealed: Int = try await db.owner.scalar("SELECT count(DISTINCT log_id)::int FROM audit_seal")
            #expect(sealed == 240)
        }
    }
}
