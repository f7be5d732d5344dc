import ArgumentParser
import CreditCore
import Foundation
import Server
import Store

extension OrgKind: ExpressibleByArgument {}

/// Audit entries written by the command line on the server itself.
func cliAudit(_ action: String, subjectUSCC: String? = nil, subjectId: String?, detail: [String: String] = [:]) -> AuditEntry {
    AuditEntry(
        actorKind: "cli",
        action: action,
        route: "cli",
        subjectUSCC: subjectUSCC,
        subjectId: subjectId,
        result: .allowed,
        detail: detail
    )
}

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org",
        abstract: "Organisations: banks, enterprises, regulators, operators, procurement.",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organisation; prints its id.")
        @OptionGroup var settings: SettingOptions
        @Option(help: "bank, enterprise, regulator, operator or procurement") var kind: OrgKind
        @Option(help: "Its name (unique among organisations of its kind).") var name: String
        @Option(help: "The enterprise's USCC (enterprises only).") var uscc: String?
        @Flag(help: "If one of this kind and name (or, for an enterprise, this USCC) exists, print its id instead of failing.")
        var ifAbsent = false
        @Flag(help: "Print the organisation as JSON.") var json = false

        func run() async throws {
            let config = try settings.load()
            let (kind, name, uscc, ifAbsent) = (self.kind, self.name, self.uscc, self.ifAbsent)
            let org = await withDatabase(config) { db in
                try await db.withTransaction { c in
                    if ifAbsent,
                        let existing = try await Register.organisation(on: c, logger: db.logger, kind: kind, name: name.trimmingBlanks())
                    {
                        return existing
                    }
                    // An enterprise is known by its USCC whatever name it was registered under.
                    if ifAbsent, kind == .enterprise, let uscc,
                        let existing = try await Register.organisation(on: c, logger: db.logger, uscc: uscc)
                    {
                        return existing
                    }
                    let org = try await Register.createOrganisation(on: c, logger: db.logger, kind: kind, name: name, uscc: uscc)
                    try await Audit.record(
                        on: c,
                        logger: db.logger,
                        cliAudit(
                            "org.create",
                            subjectUSCC: org.uscc,
                            subjectId: org.id.uuidString,
                            detail: ["kind": kind.rawValue]
                        )
                    )
                    return org
                }
            }
            if json { printJSON(org) } else { print(org.id.uuidString) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organisations.")
        @OptionGroup var settings: SettingOptions
        @Option(help: "Only this kind.") var kind: OrgKind?

        func run() async throws {
            let config = try settings.load()
            let kind = self.kind
            let orgs = await withDatabase(config) { db in
                try await db.withConnection { c in
                    try await Register.organisations(on: c, logger: db.logger, kind: kind, after: nil, limit: 10_000)
                }
            }
            for o in orgs {
                print([o.id.uuidString, o.kind.rawValue, o.uscc ?? "-", o.name].joined(separator: "\t"))
            }
        }
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "API keys: issue (shown once), list, revoke.",
        subcommands: [Issue.self, List.self, Revoke.self]
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a key for an organisation; the key is printed once.")
        @OptionGroup var settings: SettingOptions
        @Option(help: "The organisation's id.") var org: String
        @Option(help: "A label to tell keys apart.") var label: String = ""
        @Option(help: "Days until the key expires (default: never).") var expiresInDays: Int?
        @Option(help: "The machine the key is for (default: integration).") var systemName: String?
        @Option(help: "The role a system's key acts with (default: the organisation's highest).") var role: OrgRole?
        @Option(help: "The login of a person of the organisation who owns the key (it acts as them).") var user: String?
        @Flag(help: "Print the key and its record as JSON.") var json = false

        func run() async throws {
            let config = try settings.load()
            guard let orgId = UUID(uuidString: org) else { fail("--org: '\(org)' is not an organisation id") }
            if let days = expiresInDays, !(1...OrganisationLimits.keyMaxValidityDays).contains(days) {
                fail("--expires-in-days: from 1 to \(OrganisationLimits.keyMaxValidityDays)")
            }
            let expiresAt = expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
            if user != nil, systemName != nil || role != nil {
                fail("--user: a person's key acts with their role; give no --role nor --system-name")
            }
            let (label, systemName, role, login) = (self.label, self.systemName, self.role, self.user)
            let issued = await withDatabase(config) { db in
                try await db.withTransaction { c in
                    var owner = KeyOwner.system(systemName ?? "integration")
                    if let login {
                        guard let person = try await Users.find(on: c, logger: db.logger, login: login), person.orgId == orgId else {
                            fail("--user: no person \(login) in this organisation")
                        }
                        owner = .user(person.id)
                    }
                    let issued = try await Register.issueKey(
                        on: c,
                        logger: db.logger,
                        orgId: orgId,
                        label: label,
                        expiresAt: expiresAt,
                        issuedBy: nil,
                        owner: owner,
                        role: role
                    )
                    try await Audit.record(
                        on: c,
                        logger: db.logger,
                        cliAudit(
                            "key.issue",
                            subjectId: issued.info.id.uuidString,
                            detail: ["org_id": orgId.uuidString]
                        )
                    )
                    return issued
                }
            }
            if json { printJSON(issued) } else { print(issued.secret) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's keys (never the secrets).")
        @OptionGroup var settings: SettingOptions
        @Option(help: "The organisation's id.") var org: String

        func run() async throws {
            let config = try settings.load()
            guard let orgId = UUID(uuidString: org) else { fail("--org: '\(org)' is not an organisation id") }
            let keys = await withDatabase(config) { db in
                try await db.withConnection { c in try await Register.keys(on: c, logger: db.logger, orgId: orgId) }
            }
            for k in keys {
                let state = k.revokedAt != nil ? "revoked" : (k.expiresAt.map { $0 <= Date() } == true ? "expired" : "active")
                print([k.id.uuidString, k.prefix + "…", state, k.label].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key at once.")
        @OptionGroup var settings: SettingOptions
        @Argument(help: "The key's id (from `xyd key list`).") var keyId: String

        func run() async throws {
            let config = try settings.load()
            guard let id = UUID(uuidString: keyId) else { fail("'\(keyId)' is not a key id") }
            let key = await withDatabase(config) { db in
                try await db.withTransaction { c in
                    let key = try await Register.revokeKey(on: c, logger: db.logger, id: id)
                    try await Audit.record(
                        on: c,
                        logger: db.logger,
                        cliAudit(
                            "key.revoke",
                            subjectId: id.uuidString,
                            detail: ["org_id": key.orgId.uuidString]
                        )
                    )
                    return key
                }
            }
            print("revoked \(key.id.uuidString) (\(key.prefix)…)")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The tamper-evident audit log.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Walk the whole chain and the rows waiting to be sealed, without changing anything, against the audit key and the anchor file; exit 1 naming the first break."
        )
        @OptionGroup var settings: SettingOptions
        @Option(help: "The anchor file to check the chain against (default: XYD_AUDIT_ANCHOR_FILE).") var anchors: String?
        @Flag(help: "Check no anchor file (a restored copy, checked against its backup's manifest instead).") var noAnchors = false

        func run() async throws {
            let config = try settings.load()
            guard config.auditKey != nil else {
                fail(
                    "XYD_AUDIT_KEY_FILE is not set: the chain can only be checked with the audit key (ops/ creates .data/keys/audit.key)",
                    status: ExitStatus.configuration
                )
            }
            let file = noAnchors ? nil : (anchors ?? config.auditAnchorFile).map(AuditAnchors.init(path:))
            if file == nil && !noAnchors {
                FileHandle.standardError.write(
                    Data("xyd: no anchor file (XYD_AUDIT_ANCHOR_FILE): a chain cut back or wiped cannot be found\n".utf8)
                )
            }
            let v = await withDatabase(config) { db in
                try await Audit.verify(db, anchors: file) { n in
                    FileHandle.standardError.write(Data("  \(n) rows verified…\n".utf8))
                }
            }
            if let broken = v.firstBreak {
                print("audit chain BROKEN at \(broken) (\(v.verified) rows verified before it)")
                throw ExitCode(1)
            }
            print("audit chain intact: \(v.verified) rows verified, \(v.unsealed) waiting to be sealed")
        }
    }
}
