import CreditCore
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import Store

@Suite struct AuditTests {
    func write(_ db: Database, count: Int, prefix: String = "test") async throws {
        for i in 0..<count {
            try await db.withTransaction { c in
                try await Audit.record(
                    on: c,
                    logger: db.logger,
                    AuditEntry(
                        actorKind: "bank",
                        action: "\(prefix).\(i)",
                        route: "GET /test",
                        subjectUSCC: "91350100M000100Y43",
                        purpose: "loan_application",
                        result: .allowed,
                        detail: ["n": "\(i)"]
                    )
                )
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

/// The twelve tamperings of the fault run by someone who can write the database's tables (a
/// superuser, without the audit key): each is named by `verify`.
@Suite struct AuditTamperTests {
    let writer = AuditTests()

    /// A sealed chain of `count` rows, anchored in a file of its own; returns the anchor file.
    func sealedAndAnchored(_ db: TestDatabase, count: Int = 10) async throws -> AuditAnchors {
        try await writer.write(db.app, count: count)
        _ = try await Audit.sealAll(db.app)
        let anchors = AuditAnchors(path: NSTemporaryDirectory() + "xyd-anchors-\(UUID().uuidString).jsonl")
        let head = try await Audit.head(db.app)
        try anchors.append(database: head.database, chainSeq: head.chainSeq, hash: head.hash)
        return anchors
    }

    func verdict(_ db: TestDatabase, _ anchors: AuditAnchors?) async throws -> Audit.Break? {
        try await Audit.verify(db.app, anchors: anchors).firstBreak
    }

    /// The canonical row and a seal as a forger would recompute them with SQL's sha256().
    static let recomputeWithSHA256 = """
        DO $$
        DECLARE s record; prev bytea := decode(repeat('00', 32), 'hex'); h bytea;
        BEGIN
            FOR s IN SELECT a.chain_seq, a.log_id FROM audit_seal a ORDER BY a.chain_seq LOOP
                SELECT sha256(prev || convert_to(json_build_array(l.id, (extract(epoch FROM l.occurred_at) * 1000000)::bigint, l.request_id,
                    l.actor_org_id, l.actor_key_id, l.actor_kind, l.action, l.route, l.subject_uscc, l.subject_id,
                    l.purpose, l.result, l.detail, encode(l.mac, 'hex'))::text, 'UTF8') || '\\x01'::bytea) INTO h
                FROM audit_log l WHERE l.id = s.log_id;
                IF h IS NULL THEN CONTINUE; END IF;
                UPDATE audit_seal SET prev_hash = prev, hash = h WHERE chain_seq = s.chain_seq;
                prev := h;
            END LOOP;
            UPDATE audit_chain_head SET hash = prev, chain_seq = (SELECT max(chain_seq) FROM audit_seal);
        END $$
        """

    @Test func theSixTheChainAlwaysCaught() async throws {
        // 1 an edited row, 2 a deleted row, 3 a removed seal, 4 a cut tail with the head left,
        // 5 a row slipped in without its queue entry, 6 an edited seal.
        let cases: [(String, [String], String)] = [
            (
                "edited row",
                ["UPDATE audit_log SET purpose = 'credit_line_review' WHERE id = (SELECT log_id FROM audit_seal WHERE chain_seq = 4)"],
                "audit row changed after it was sealed"
            ),
            ("deleted row", ["DELETE FROM audit_log WHERE id = (SELECT log_id FROM audit_seal WHERE chain_seq = 4)"], "audit row deleted"),
            ("removed seal", ["DELETE FROM audit_seal WHERE chain_seq = 4"], "seal missing"),
            (
                "cut tail",
                [
                    "DELETE FROM audit_log WHERE id IN (SELECT log_id FROM audit_seal WHERE chain_seq > 7)",
                    "DELETE FROM audit_seal WHERE chain_seq > 7",
                ],
                "chain head does not match"
            ),
            ("edited seal", ["UPDATE audit_seal SET hash = sha256(hash) WHERE chain_seq = 4"], "audit row changed after it was sealed"),
        ]
        for (name, statements, reason) in cases {
            try await TestDatabase.with { db in
                _ = try await sealedAndAnchored(db)
                for sql in statements { try await db.owner.execute(sql) }
                let broken = try await verdict(db, nil)
                #expect(broken?.reason.hasPrefix(reason) == true, "\(name): \(String(describing: broken))")
            }
        }
        try await TestDatabase.with { db in
            _ = try await sealedAndAnchored(db)
            try await writer.write(db.app, count: 1, prefix: "sneaky")
            try await db.owner.execute("DELETE FROM audit_unsealed")
            #expect(try await verdict(db, nil)?.reason == "audit row is neither sealed nor queued for sealing")
        }
    }

    @Test func aForgedRowIsNamedBeforeAndAfterTheSealerSealsIt() async throws {
        try await TestDatabase.with { db in
            let anchors = try await sealedAndAnchored(db)
            // 7 a plain forged insert; 8 a backdated one.
            try await db.owner.execute(
                """
                INSERT INTO audit_log (actor_kind, action, route, subject_uscc, purpose, result)
                VALUES ('bank', 'profile.read', 'GET /v1/enterprises/:uscc/profile', '91350100M000100Y43', 'loan_application', 'allowed')
                """
            )
            let waiting = try await verdict(db, anchors)
            #expect(
                waiting?.reason.contains("waiting to be sealed was not written by the service") == true,
                "\(String(describing: waiting))"
            )
            _ = try await Audit.sealAll(db.app)
            let sealed = try await verdict(db, anchors)
            #expect(sealed?.reason.contains("not written by the service") == true, "\(String(describing: sealed))")
            #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_seal WHERE NOT genuine") == 1)
        }
        try await TestDatabase.with { db in
            let anchors = try await sealedAndAnchored(db)
            try await db.owner.execute(
                """
                INSERT INTO audit_log (occurred_at, actor_kind, action, result) VALUES (now() - interval '400 days', 'operator', 'key.issue', 'allowed')
                """
            )
            #expect(try await verdict(db, anchors)?.reason.contains("not written by the service") == true)
        }
    }

    @Test func aCutOrWipedChainIsFoundAgainstItsAnchor() async throws {
        // 9 the tail cut and the head moved back to an earlier seal.
        try await TestDatabase.with { db in
            let anchors = try await sealedAndAnchored(db)
            try await db.owner.execute("DELETE FROM audit_log WHERE id IN (SELECT log_id FROM audit_seal WHERE chain_seq > 6)")
            try await db.owner.execute("DELETE FROM audit_seal WHERE chain_seq > 6")
            try await db.owner.execute(
                "UPDATE audit_chain_head SET chain_seq = 6, hash = (SELECT hash FROM audit_seal WHERE chain_seq = 6)"
            )
            #expect(try await verdict(db, nil) == nil, "without its anchor the cut is consistent")
            let broken = try await verdict(db, anchors)
            #expect(broken?.reason.contains("seals cut or wiped") == true, "\(String(describing: broken))")
        }
        // 10 everything wiped and the head reset.
        try await TestDatabase.with { db in
            let anchors = try await sealedAndAnchored(db)
            for sql in [
                "DELETE FROM audit_unsealed", "DELETE FROM audit_seal", "DELETE FROM audit_log",
                "UPDATE audit_chain_head SET chain_seq = 0, hash = decode(repeat('00', 32), 'hex')",
            ] {
                try await db.owner.execute(sql)
            }
            #expect(try await verdict(db, anchors)?.reason.contains("seals cut or wiped") == true)
        }
        // Another database's anchors in the same file are not this one's (a test run's, a demo's).
        try await TestDatabase.with { db in
            let anchors = try await sealedAndAnchored(db)
            try anchors.append(database: "another", chainSeq: 1_000, hash: Data(repeating: 7, count: 32))
            #expect(try await verdict(db, anchors) == nil)
        }
        // A forged anchor line is refused.
        try await TestDatabase.with { db in
            let anchors = try await sealedAndAnchored(db)
            let line = "{\"database\":\"\(db.name)\",\"chain_seq\":1,\"hash\":\"00\",\"at\":\"2026-11-30T00:00:00Z\",\"mac\":\"00\"}\n"
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: anchors.path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
            try handle.close()
            await #expect(throws: AuditAnchors.Forged.self) { _ = try await verdict(db, anchors) }
        }
    }

    @Test func aChainRecomputedWithoutTheKeyIsFound() async throws {
        // 11 a row edited, 12 a row deleted, and the chain recomputed with sha256() in SQL.
        for tamper in [
            "UPDATE audit_log SET result = 'denied' WHERE id = (SELECT log_id FROM audit_seal WHERE chain_seq = 5)",
            "DELETE FROM audit_log WHERE id = (SELECT log_id FROM audit_seal WHERE chain_seq = 5)",
        ] {
            try await TestDatabase.with { db in
                let anchors = try await sealedAndAnchored(db)
                try await db.owner.execute(tamper)
                if tamper.hasPrefix("DELETE") {
                    try await db.owner.execute("DELETE FROM audit_seal WHERE chain_seq = 5")
                    try await db.owner.execute("UPDATE audit_seal SET chain_seq = chain_seq - 1 WHERE chain_seq > 5")
                }
                try await db.owner.execute(Self.recomputeWithSHA256)
                let broken = try await verdict(db, anchors)
                #expect(broken != nil && broken!.chainSeq <= 5, "\(tamper): \(String(describing: broken))")
            }
        }
    }

    @Test func aCopiedRowAndATimeRunningBackwardsAreFound() async throws {
        try await TestDatabase.with { db in
            _ = try await sealedAndAnchored(db)
            try await db.owner.execute("DROP INDEX audit_log_mac")
            try await db.owner.execute(
                """
                INSERT INTO audit_log (occurred_at, request_id, actor_org_id, actor_key_id, actor_kind, action, route, subject_uscc, subject_id, purpose,
                                       result, detail, mac)
                SELECT occurred_at, request_id, actor_org_id, actor_key_id, actor_kind, action, route, subject_uscc, subject_id, purpose, result, detail, mac
                FROM audit_log ORDER BY id LIMIT 1
                """
            )
            #expect(try await verdict(db, nil)?.reason == "audit row is a copy of another (the same code)")
        }
        try await TestDatabase.with { db in
            _ = try await sealedAndAnchored(db)
            // A row with a good code whose time is an hour before the rows before it (a writer's
            // clock set back): named once sealed.
            let at = Audit.micros(Date().addingTimeInterval(-3600))
            let entry = AuditEntry(actorKind: "operator", action: "key.issue", result: .allowed)
            let code = try Audit.rowCode(entry, occurredMicros: at)
            try await db.app.withConnection { c in
                try await c.query(
                    """
                    INSERT INTO audit_log (occurred_at, actor_kind, action, result, mac)
                    VALUES (timestamptz 'epoch' + \(at) * interval '1 microsecond', 'operator', 'key.issue', 'allowed', \(code))
                    """,
                    logger: db.app.logger
                )
            }
            _ = try await Audit.sealAll(db.app)
            #expect(try await verdict(db, nil)?.reason.contains("time runs backwards") == true)
        }
    }

    @Test func theSealerAnchorsTheHeadOutsideTheDatabase() async throws {
        try await TestDatabase.with { db in
            try await writer.write(db.app, count: 4)
            let anchors = AuditAnchors(path: NSTemporaryDirectory() + "xyd-anchors-\(UUID().uuidString).jsonl")
            let sealer = AuditSealer(db: db.app, intervalMilliseconds: 200, batch: 100, anchors: anchors)
            try await sealer.seal(logger: db.app.logger, forceAnchor: true)
            let head = try await Audit.head(db.app)
            #expect(head.chainSeq == 4)
            let anchored = try #require(try anchors.latest(database: head.database))
            #expect(anchored.chainSeq == head.chainSeq && anchored.hash == head.hash)
            #expect(try await Audit.verify(db.app, anchors: anchors).ok)
        }
    }

    /// Everything wiped and the head row deleted too (the outside probe): verify names it rather
    /// than crash, and the sealer refuses to start a new chain over the evidence.
    @Test func aChainWipedWithItsHeadIsNamedAndNotResealed() async throws {
        try await TestDatabase.with { db in
            let anchors = try await sealedAndAnchored(db)
            try await db.owner.execute("TRUNCATE audit_seal, audit_unsealed, audit_log")
            try await db.owner.execute("DELETE FROM audit_chain_head")
            #expect(try await verdict(db, anchors)?.reason.contains("head is missing") == true)
            try await writer.write(db.app, count: 1, prefix: "after")
            await #expect(throws: AuditHeadMissing.self) { _ = try await Audit.sealAll(db.app) }
        }
    }

    @Test func verifyingChangesNothing() async throws {
        try await TestDatabase.with { db in
            try await writer.write(db.app, count: 3)
            let v = try await Audit.verify(db.app)
            #expect(v.ok && v.unsealed == 3 && v.verified == 0)
            #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_seal") == 0)
        }
    }
}
