import ArgumentParser
import CreditCore
import Foundation
import Server
import Store

extension OrgRole: ExpressibleByArgument {}

/// `xyd user …`: people of an organisation, from the server's command line (an operator's
/// first admin of a new bank, a reset when an admin is locked out, the demo's TOTP codes).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Users of organisations: add, list, disable, reset a password or second factor, show a TOTP code (demo).",
        subcommands: [Add.self, List.self, Disable.self, Reset.self, TOTPCode.self]
    )

    /// What a new or reset user is told once: the password, and the TOTP secret to enrol.
    struct Credentials: Encodable {
        let user: Users.User
        let password: String?
        let totpSecret: String?
        let totpUri: String?
    }

    static func printCredentials(_ c: Credentials, json: Bool) {
        if json { return printJSON(c) }
        print("user \(c.user.login) (\(c.user.name), \(c.user.role.rawValue)) \(c.user.id.uuidString)")
        if let p = c.password { print("password (shown once; changed at the first sign-in): \(p)") }
        if let s = c.totpSecret, let u = c.totpUri {
            print("TOTP secret (enrol it in an authenticator app; shown once): \(s)")
            print("  \(u)")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user; prints the password (if generated) and TOTP secret once.")
        @OptionGroup var settings: SettingOptions
        @Option(help: "The organisation's id.") var org: String
        @Option(help: "Sign-in name: 3–40 of a–z, 0–9, '.', '_', '-'.") var login: String
        @Option(help: "The person's name as others see it.") var name: String
        @Option(
            help:
                "Role within the organisation (bank: officer, manager, admin; enterprise: staff, legal_rep; others: staff/analyst, admin)."
        )
        var role: OrgRole
        @Option(help: "Staff number shown beside the name.") var staffNumber: String?
        @Option(help: "The password (default: one is generated). Prefer the XYD_NEW_PASSWORD variable: arguments show in `ps`.")
        var password: String?
        @Flag(help: "Give the user a TOTP second factor (always for banks and the operator).") var totp = false
        @Flag(help: "If the login exists in this organisation, say so and succeed.") var ifAbsent = false
        @Flag(help: "Print as JSON.") var json = false

        func run() async throws {
            let config = try settings.load()
            guard let orgId = UUID(uuidString: org) else { fail("--org: '\(org)' is not an organisation id") }
            let given = password ?? ProcessInfo.processInfo.environment["XYD_NEW_PASSWORD"]
            let password = given ?? Passwords.generate()
            if let why = PasswordPolicy.problem(password, login: login) { fail("password: \(why)") }
            let hash = try await Passwords(logN: config.passwordScryptLogN).hash(password)
            let (login, name, staff, role, totp, ifAbsent) = (self.login, self.name, self.staffNumber, self.role, self.totp, self.ifAbsent)
            let made: Credentials? = await withDatabase(config) { db in
                try await db.withTransaction { c in
                    if ifAbsent, let existing = try await Users.find(on: c, logger: db.logger, login: login), existing.orgId == orgId {
                        return nil
                    }
                    guard let org = try await Register.organisation(on: c, logger: db.logger, id: orgId) else {
                        throw RegisterError.orgNotFound(orgId)
                    }
                    let secret = (totp || OrgRole.secondFactorRequired(for: org.kind)) ? TOTP.newSecret() : nil
                    let user: Users.User
                    do {
                        user = try await Users.create(
                            on: c,
                            logger: db.logger,
                            orgId: orgId,
                            login: login,
                            name: name,
                            staffNumber: staff,
                            role: role,
                            passwordHash: hash,
                            totpSecret: secret,
                            createdBy: nil
                        )
                    } catch let e as Users.Refusal {
                        fail(e.description)
                    }
                    try await Audit.record(
                        on: c,
                        logger: db.logger,
                        cliAudit("user.create", subjectId: user.id.uuidString, detail: ["org_id": orgId.uuidString, "role": role.rawValue])
                    )
                    return Credentials(
                        user: user,
                        password: given == nil ? password : nil,
                        totpSecret: secret.map(Base32.encode),
                        totpUri: secret.map { TOTP.uri(secret: $0, login: login) }
                    )
                }
            }
            guard let made else { return print("\(login) exists in this organisation") }
            printCredentials(made, json: json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's users.")
        @OptionGroup var settings: SettingOptions
        @Option(help: "The organisation's id.") var org: String

        func run() async throws {
            let config = try settings.load()
            guard let orgId = UUID(uuidString: org) else { fail("--org: '\(org)' is not an organisation id") }
            let users = await withDatabase(config) { db in
                try await db.withConnection { c in try await Users.list(on: c, logger: db.logger, orgId: orgId) }
            }
            for u in users {
                let state = u.disabledAt != nil ? "disabled" : u.lockedUntil != nil ? "locked" : "enabled"
                print([u.id.uuidString, u.login, u.role.rawValue, u.secondFactor ? "totp" : "-", state, u.name].joined(separator: "\t"))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: sessions end and the user's keys stop at once.")
        @OptionGroup var settings: SettingOptions
        @Option(help: "The user's login.") var login: String

        func run() async throws {
            let config = try settings.load()
            let login = self.login
            await withDatabase(config) { db in
                try await db.withTransaction { c in
                    guard let user = try await Users.find(on: c, logger: db.logger, login: login) else { fail("no user \(login)") }
                    do {
                        _ = try await Users.disable(on: c, logger: db.logger, orgId: nil, id: user.id)
                    } catch let e as Users.Refusal {
                        fail(e.description)
                    }
                    try await Audit.record(on: c, logger: db.logger, cliAudit("user.disable", subjectId: user.id.uuidString))
                }
            }
            print("\(login) disabled")
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a user a new password (and with --totp a new second factor); lifts a lock-out. Printed once."
        )
        @OptionGroup var settings: SettingOptions
        @Option(help: "The user's login.") var login: String
        @Flag(help: "A new TOTP secret too (the old authenticator stops working).") var totp = false
        @Flag(help: "Print as JSON.") var json = false

        func run() async throws {
            let config = try settings.load()
            let password = Passwords.generate()
            let hash = try await Passwords(logN: config.passwordScryptLogN).hash(password)
            let (login, totp) = (self.login, self.totp)
            let made = await withDatabase(config) { db in
                try await db.withTransaction { c -> Credentials in
                    guard let user = try await Users.find(on: c, logger: db.logger, login: login) else { fail("no user \(login)") }
                    try await Users.setPassword(on: c, logger: db.logger, id: user.id, passwordHash: hash, byAdmin: true)
                    let secret = totp ? TOTP.newSecret() : nil
                    if let secret { try await Users.resetSecondFactor(on: c, logger: db.logger, id: user.id, secret: secret) }
                    try await Audit.record(
                        on: c,
                        logger: db.logger,
                        cliAudit("user.reset", subjectId: user.id.uuidString, detail: ["second_factor": totp ? "new" : "kept"])
                    )
                    return Credentials(
                        user: user,
                        password: password,
                        totpSecret: secret.map(Base32.encode),
                        totpUri: secret.map { TOTP.uri(secret: $0, login: login) }
                    )
                }
            }
            printCredentials(made, json: json)
        }
    }

    struct TOTPCode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "totp-code",
            abstract:
                "The user's current TOTP code, as an authenticator app shows it (for the demo on the server; real users use their phone)."
        )
        @OptionGroup var settings: SettingOptions
        @Option(help: "The user's login.") var login: String

        func run() async throws {
            let config = try settings.load()
            let login = self.login
            let secret = await withDatabase(config) { db in
                try await db.withConnection { c in try await Users.secondFactorSecret(on: c, logger: db.logger, login: login) }
            }
            guard let secret else { fail("\(login) has no second factor (or no such user)") }
            let now = Date()
            let left = Int(TOTP.stepSeconds) - Int(now.timeIntervalSince1970) % Int(TOTP.stepSeconds)
            print(TOTP.code(secret: secret, step: TOTP.step(at: now)))
            FileHandle.standardError.write(Data("(valid for \(left) more seconds, and the 30 s either side)\n".utf8))
        }
    }
}
