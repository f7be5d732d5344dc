import CreditCore
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import Store

@Suite struct RegisterTests {
    @Test func organisationsAreValidated() async throws {
        try await TestDatabase.with { db in
            try await db.app.withTransaction { c in
                let l = db.app.logger
                await #expect(throws: RegisterError.usccRequired) {
                    try await Register.createOrganisation(on: c, logger: l, kind: .enterprise, name: "A", uscc: nil)
                }
                await #expect(throws: RegisterError.usccNotAllowed) {
                    try await Register.createOrganisation(on: c, logger: l, kind: .bank, name: "A", uscc: "91350100M000100Y43")
                }
                await #expect(throws: RegisterError.invalidName("must not be empty")) {
                    try await Register.createOrganisation(on: c, logger: l, kind: .bank, name: "  ", uscc: nil)
                }
                await #expect(throws: RegisterError.self) {
                    try await Register.createOrganisation(on: c, logger: l, kind: .enterprise, name: "A", uscc: "91350100M000100Y44")
                }
                let org = try await Register.createOrganisation(
                    on: c,
                    logger: l,
                    kind: .enterprise,
                    name: "南通海门家纺有限公司",
                    uscc: " 91350100m000100y43 "
                )
                #expect(org.uscc == "91350100M000100Y43")
                await #expect(throws: RegisterError.duplicateUSCC("91350100M000100Y43")) {
                    try await Register.createOrganisation(on: c, logger: l, kind: .enterprise, name: "Other", uscc: "91350100M000100Y43")
                }
                await #expect(throws: RegisterError.duplicateOrganisation(kind: .enterprise, name: "南通海门家纺有限公司")) {
                    try await Register.createOrganisation(
                        on: c,
                        logger: l,
                        kind: .enterprise,
                        name: "南通海门家纺有限公司",
                        uscc: "91320602MA1NTX016C"
                    )
                }
            }
        }
    }

    @Test func keysAuthenticateUntilRevokedOrExpired() async throws {
        try await TestDatabase.with { db in
            let l = db.app.logger
            let (bank, issued) = try await db.app.withTransaction { c in
                let bank = try await Register.createOrganisation(on: c, logger: l, kind: .bank, name: "Bank", uscc: nil)
                let issued = try await Register.issueKey(on: c, logger: l, orgId: bank.id, label: "k", expiresAt: nil, issuedBy: nil)
                return (bank, issued)
            }
            #expect(issued.secret.hasPrefix("xyd_"))
            // Only the hash is stored.
            let stored: Int = try await db.owner.scalar(
                "SELECT count(*)::int FROM api_keys WHERE key_prefix = '\(issued.info.prefix)' AND encode(key_hash, 'escape') NOT LIKE '%\(issued.secret)%'"
            )
            #expect(stored == 1)
            let ok = try await db.app.withConnection { try await Register.authenticate(on: $0, logger: l, key: issued.secret) }
            #expect(ok == .success(Principal(orgId: bank.id, kind: .bank, orgName: "Bank", uscc: nil, keyId: issued.info.id)))
            let unknown = try await db.app.withConnection { try await Register.authenticate(on: $0, logger: l, key: issued.secret + "x") }
            #expect(unknown == .failure(.unknown))
            let later = Date().addingTimeInterval(3600)
            let expiring = try await db.app.withConnection {
                try await Register.issueKey(on: $0, logger: l, orgId: bank.id, label: "", expiresAt: later, issuedBy: issued.info.id)
            }
            let expired = try await db.app.withConnection {
                try await Register.authenticate(on: $0, logger: l, key: expiring.secret, now: later.addingTimeInterval(1))
            }
            #expect(expired == .failure(.expired))
            _ = try await db.app.withConnection { try await Register.revokeKey(on: $0, logger: l, id: issued.info.id) }
            let revoked = try await db.app.withConnection { try await Register.authenticate(on: $0, logger: l, key: issued.secret) }
            #expect(revoked == .failure(.revoked))
        }
    }

    @Test func keyExpiryMustBeInTheFutureAndBounded() async throws {
        try await TestDatabase.with { db in
            let l = db.app.logger
            try await db.app.withTransaction { c in
                let bank = try await Register.createOrganisation(on: c, logger: l, kind: .bank, name: "Bank", uscc: nil)
                await #expect(throws: RegisterError.invalidExpiry("must be in the future")) {
                    try await Register.issueKey(
                        on: c,
                        logger: l,
                        orgId: bank.id,
                        label: "",
                        expiresAt: Date().addingTimeInterval(-1),
                        issuedBy: nil
                    )
                }
                await #expect(throws: RegisterError.self) {
                    try await Register.issueKey(
                        on: c,
                        logger: l,
                        orgId: bank.id,
                        label: "",
                        expiresAt: Date().addingTimeInterval(5 * 366 * 86400),
                        issuedBy: nil
                    )
                }
                await #expect(throws: RegisterError.orgNotFound(UUID(uuidString: "00000000-0000-0000-0000-000000000000")!)) {
                    try await Register.issueKey(
                        on: c,
                        logger: l,
                        orgId: UUID(uuidString: "00000000-0000-0000-0000-000000000000")!,
                        label: "",
                        expiresAt: nil,
                        issuedBy: nil
                    )
                }
            }
        }
    }
}
