import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PostgresNIO
import Store

/// Credit data: a business's own profile, records, authorisations and who looked at it; a
/// bank's reads under a live authorisation; signed reports and their verification. Every read
/// of credit data writes an audit row in the read's own transaction — denied reads too.
struct CreditRoutes {
    let db: Database
    /// Report verification reads here (a fresh replica, else `db`).
    let replica: Reads
    let signer: ReportSigner?
    /// Report verification is open to anyone: rate-limited per address like the public routes.
    let publicLimiter: RateLimiter
    /// Banks' profile reads, many to a statement under load.
    let reads: ProfileReadBatcher

    var actions: CreditActions { CreditActions(db: db, signer: signer) }
    /// Scorecards by version, for the advice route.
    let cards = ScorecardCache()

    static let purposeHeader = HTTPField.Name("X-Purpose")!
    static let recordsPageMax = 500

    struct NewReport: Decodable {
        let purpose: AccessPurpose?
        let asOf: Date?
    }

    /// `GET /v1/me/advice`: what would raise the grade (see `Improvement`).
    struct AdviceBody: Encodable {
        struct Step: Encodable {
            let feature: String
            let labelZh: String
            let labelEn: String
            let current: FeatureValue
            let currentZh: String
            let currentEn: String
            let targetZh: String
            let targetEn: String
            let gain: Int
        }
        let scorecardVersion: String
        let score: Int?
        let grade: String?
        let nextGrade: String?
        let pointsNeeded: Int
        let reaches: Bool
        let steps: [Step]
        let blockedZh: String?
        let blockedEn: String?

        init(_ p: StoredProfile, _ a: Improvement.Advice) {
            scorecardVersion = p.scorecardVersion
            score = p.score
            grade = p.grade
            nextGrade = a.nextGrade
            pointsNeeded = a.pointsNeeded
            reaches = a.reaches
            steps = a.steps.map { s in
                Step(
                    feature: s.feature.rawValue,
                    labelZh: s.feature.definition.zh,
                    labelEn: s.feature.definition.en,
                    current: s.current,
                    currentZh: Scorecard.render(s.current, s.feature, chinese: true),
                    currentEn: Scorecard.render(s.current, s.feature, chinese: false),
                    targetZh: s.targetZh,
                    targetEn: s.targetEn,
                    gain: s.gain
                )
            }
            blockedZh = a.blockedZh
            blockedEn = a.blockedEn
        }

        /// Nulls written out, as the contract has them.
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(scorecardVersion, forKey: .scorecardVersion)
            try c.encode(score, forKey: .score)
            try c.encode(grade, forKey: .grade)
            try c.encode(nextGrade, forKey: .nextGrade)
            try c.encode(pointsNeeded, forKey: .pointsNeeded)
            try c.encode(reaches, forKey: .reaches)
            try c.encode(steps, forKey: .steps)
            try c.encode(blockedZh, forKey: .blockedZh)
            try c.encode(blockedEn, forKey: .blockedEn)
        }
        enum CodingKeys: CodingKey {
            case scorecardVersion, score, grade, nextGrade, pointsNeeded, reaches, steps, blockedZh, blockedEn
        }
    }

    struct RecordBody: Encodable {
        let dataset: String
        let provider: String
        let recordId: String
        let version: Int64
        let updatedAt: Date
        let receivedAt: Date
        /// `current`, `disputed` (an open objection), `suppressed` (an upheld objection: left
        /// out of the profile until the provider corrects it) or `unverified`.
        let status: String
        let data: JSONValue
        /// The business's own statement on the record (说明), while live.
        let statement: String?
    }

    struct Verification: Encodable {
        let number: String
        let valid: Bool
        let keyId: String
        let publicKey: String
        let algorithm = "Ed25519"
        let detail: String
        /// With the report's verification code: its key facts, to compare with a printout.
        let summary: Summary?
    }

    struct Summary: Encodable {
        let subjectName: String?
        let uscc: String
        let issuedAt: String?
        let asOf: String?
        let score: Int?
        let grade: String?
        let scorecardVersion: String?

        init(_ r: SignedReport) {
            let doc = (try? JSONParser.parse(Array(r.canonical.utf8))) ?? .null
            let content = doc["content"] ?? .null
            let profile = content["profile"] ?? .null
            subjectName = content["enterprise"]?["name"]?.stringValue
            uscc = r.uscc
            issuedAt = doc["issued_at"]?.stringValue
            asOf = content["as_of"]?.stringValue
            score = profile["score"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } }
            grade = profile["grade"]?.stringValue
            scorecardVersion = profile["scorecard_version"]?.stringValue
        }
    }

    struct SigningKey: Encodable {
        let algorithm = "Ed25519"
        let keyId: String
        let publicKey: String
    }

    // MARK: Helpers

    /// The calling business's USCC.
    func usccParameter(_ call: Call) throws -> String {
        let raw = try call.parameter("uscc")
        guard let code = USCC(raw) else { throw Problem.invalid("uscc", "a valid unified social credit code (both check characters)") }
        return code.value
    }

    func purpose(_ call: Call, body: AccessPurpose? = nil) throws -> AccessPurpose {
        let text = call.request.uri.queryParameters.get("purpose") ?? call.request.headers[Self.purposeHeader]
        if let text {
            guard let p = AccessPurpose(rawValue: text) else {
                throw Problem.invalid("purpose", "one of \(AccessPurpose.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return p
        }
        if let body { return body }
        throw Problem(
            .badRequest,
            "name the purpose of this read: ?purpose= or the X-Purpose header (\(AccessPurpose.allCases.map(\.rawValue).joined(separator: ", ")))"
        )
    }

    func flag(_ call: Call, _ name: String) throws -> Bool {
        guard let v = call.request.uri.queryParameters.get(name) else { return false }
        switch v {
        case "true", "1": return true
        case "false", "0": return false
        default: throw Problem.invalid(name, "true or false")
        }
    }

    /// `{"authorisation_id": …, "profile": …}` around the profile JSON PostgreSQL built.
    static func profileResponse(_ r: ProfileReads.Result, uscc: String) throws -> Response {
        guard let json = r.profileJSON else { throw Problem(.notFound, "no profile of \(uscc) yet: no records, or not yet computed") }
        var body = ByteBuffer()
        body.reserveCapacity(json.utf8.count + 80)
        body.writeString("{\"authorisation_id\":")
        body.writeString(r.authorisationId.map { "\"\($0.uuidString)\"" } ?? "null")
        body.writeString(",\"profile\":")
        body.writeString(json)
        body.writeString("}")
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    static func records(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        dataset: Dataset?,
        after: String?,
        limit: Int,
        retainedOn: Day? = nil
    ) async throws -> [RecordBody] {
        try await Records.current(c, logger: logger, uscc: uscc, dataset: dataset, after: after, limit: limit, retainedOn: retainedOn).map {
            r in
            RecordBody(
                dataset: r.dataset,
                provider: Dataset(rawValue: r.dataset)?.provider.rawValue ?? "",
                recordId: r.recordId,
                version: r.version,
                updatedAt: r.updatedAt,
                receivedAt: r.receivedAt,
                status: r.status,
                data: r.dataJSON.flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .null,
                statement: r.statement
            )
        }
    }

    func datasetFilter(_ call: Call) throws -> Dataset? {
        try call.request.uri.queryParameters.get("dataset").map { text in
            guard let d = Dataset(rawValue: text) else {
                throw Problem.invalid("dataset", "one of \(Dataset.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return d
        }
    }

    func reportResponse(_ r: SignedReport, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers[.contentDisposition] = "attachment; filename=\"\(r.number).json\""
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: r.document)))
    }

    // MARK: Routes

    func register(_ api: API) {
        // A business's own view.
        api.on(.get, "/v1/me/profile") { call in
            let uscc = try call.ownUSCC()
            let lineage = try flag(call, "lineage")
            if !lineage {
                let r = try await db.withConnection { c in
                    try await ProfileReads.ownRead(
                        c,
                        logger: call.logger,
                        audit: call.auditEntry(action: "profile.read", result: .allowed),
                        uscc: uscc
                    )
                }
                guard r.keyLive else { throw call.keyNotLive() }
                return try Self.profileResponse(r, uscc: uscc)
            }
            try await call.recheckKey()
            let body = try await call.audited(
                db,
                action: "profile.read",
                subject: { _ in .init(uscc: uscc, purpose: "self") },
                do: { c in
                    try await CreditActions.profileBody(c, logger: call.logger, uscc: uscc, lineage: lineage, auth: nil)
                }
            )
            return try JSON.response(body)
        }
        api.on(.get, "/v1/me/advice") { call in
            let uscc = try call.ownUSCC()
            let cards = cards
            let found = try await call.audited(
                db,
                action: "advice.read",
                subject: { _ in .init(uscc: uscc, purpose: "self") },
                do: { c in try await CheckUp.advice(c, logger: call.logger, uscc: uscc, cards: cards, today: Day.todayInChina()) }
            )
            guard let (profile, advice) = found else {
                throw Problem(.notFound, "no credit profile yet: it is made when the first records arrive")
            }
            return try JSON.response(AdviceBody(profile, advice))
        }
        api.on(.get, "/v1/me/records") { call in
            let uscc = try call.ownUSCC()
            let dataset = try datasetFilter(call)
            let limit = try PageLimits.size(call.request)
            let after = call.request.uri.queryParameters.get("after")
            let items = try await call.audited(
                db,
                action: "records.read",
                subject: { _ in .init(uscc: uscc, purpose: "self") },
                do: { c in
                    try await Self.records(c, logger: call.logger, uscc: uscc, dataset: dataset, after: after, limit: limit)
                }
            )
            return try JSON.response(
                Page(items: items, next: items.count == limit ? items.last.map { "\($0.dataset)/\($0.recordId)" } : nil)
            )
        }
        api.on(.get, "/v1/me/authorisations") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await Authorisations.forEnterprise(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/me/authorisations") { call in
            let body = try await call.decode(CreditActions.NewAuthorisation.self)
            return try JSON.response(try await actions.grant(call, body), status: .created)
        }
        api.on(.delete, "/v1/me/authorisations/:authorisationId") { call in
            try JSON.response(try await actions.revoke(call, id: try call.uuidParameter("authorisationId")))
        }
        api.on(.get, "/v1/me/access-log") { call in
            let uscc = try call.ownUSCC()
            let limit = try PageLimits.size(call.request)
            let items = try await db.withConnection { c in
                try await Authorisations.accessLog(c, logger: call.logger, uscc: uscc, limit: limit)
            }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/me/reports") { call in
            let body = try await call.decodeIfPresent(NewReport.self)
            return reportResponse(try await actions.ownReport(call, asOf: body?.asOf), status: .created)
        }

        // A bank's reads, each under a live authorisation.
        api.on(.get, "/v1/authorisations") { call in
            let live = try !flag(call, "all")
            let items = try await db.withConnection { c in
                try await Authorisations.forBank(c, logger: call.logger, bankOrgId: call.caller.orgId, liveOnly: live)
            }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/enterprises/:uscc/profile") { call in
            let uscc = try usccParameter(call)
            let purpose = try purpose(call)
            let lineage = try flag(call, "lineage")
            if !lineage {
                // The hot path: check, audit and read in one statement, with the other reads waiting.
                let r: ProfileReads.Result
                do {
                    r = try await reads.read(
                        .init(
                            bankOrgId: call.caller.orgId,
                            uscc: uscc,
                            scope: .profile,
                            purpose: purpose,
                            requestId: call.context.requestId,
                            keyId: call.caller.keyId,
                            userId: call.caller.user?.id,
                            route: call.route,
                            clientRequestId: call.context.clientRequestId
                        )
                    )
                } catch let full as ReadQueueFull {
                    throw Problem(.notReady, full.description, headers: [.retryAfter: "1"])
                }
                guard r.keyLive else { throw call.keyNotLive() }
                guard r.allowed else {
                    throw Problem(
                        .authorisationRequired,
                        "no live authorisation from \(uscc) lets this bank read its profile for \(purpose.rawValue)"
                    )
                }
                return try Self.profileResponse(r, uscc: uscc)
            }
            try await call.recheckKey()
            let logger = call.logger
            let (body, _) = try await actions.bankRead(call, uscc: uscc, scope: .profile, purpose: purpose, action: "profile.read") {
                c,
                auth in
                try await CreditActions.profileBody(c, logger: logger, uscc: uscc, lineage: lineage, auth: auth)
            }
            return try JSON.response(body)
        }
        api.on(.get, "/v1/enterprises/:uscc/records") { call in
            let uscc = try usccParameter(call)
            let purpose = try purpose(call)
            let dataset = try datasetFilter(call)
            let limit = try PageLimits.size(call.request)
            let after = call.request.uri.queryParameters.get("after")
            let logger = call.logger
            let (items, _) = try await actions.bankRead(call, uscc: uscc, scope: .records, purpose: purpose, action: "records.read") {
                c,
                _ in
                // A bank is not provided negative records past their five years (the business sees all its own).
                try await Self.records(
                    c,
                    logger: logger,
                    uscc: uscc,
                    dataset: dataset,
                    after: after,
                    limit: limit,
                    retainedOn: Day.todayInChina()
                )
            }
            return try JSON.response(
                Page(items: items, next: items.count == limit ? items.last.map { "\($0.dataset)/\($0.recordId)" } : nil)
            )
        }
        api.on(.post, "/v1/enterprises/:uscc/reports") { call in
            let uscc = try usccParameter(call)
            let signer = try actions.requireSigner()
            let body = try await call.decodeIfPresent(NewReport.self)
            let purpose = try purpose(call, body: body?.purpose)
            let logger = call.logger
            let caller = call.caller
            do {
                let (report, _) = try await actions.bankRead(call, uscc: uscc, scope: .report, purpose: purpose, action: "report.create") {
                    c,
                    auth in
                    try await Reports.create(
                        c,
                        logger: logger,
                        signer: signer,
                        uscc: uscc,
                        requestedBy: caller.orgId,
                        requesterName: caller.orgName,
                        requesterKind: caller.kind.rawValue,
                        authorisationId: auth,
                        purpose: purpose.rawValue,
                        asOf: body?.asOf
                    )
                }
                return reportResponse(report, status: .created)
            } catch let e as ReportError { throw CreditActions.mapReportError(e) }
        }

        // Reports: the requester (or the business it is about) fetches it again; anyone checks it.
        api.on(.get, "/v1/reports/:number") { call in
            let number = try call.parameter("number")
            // A bank fetches its report again only while the business's authorisation stands; the
            // refusal is audited and shown to the business like any denied read.
            let (found, live) = try await db.withTransaction { c in
                guard let found = try await Reports.find(c, logger: call.logger, number: number),
                    found.requestedBy == call.caller.orgId || found.report.uscc == call.caller.uscc
                else { throw Problem(.notFound, "no report \(number) of yours") }
                let own = found.report.uscc == call.caller.uscc
                let live = try await own ? true : Reports.authorisationLive(c, logger: call.logger, number: number)
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(
                        action: "report.read",
                        result: live ? .allowed : .denied,
                        subjectUSCC: found.report.uscc,
                        subjectId: number,
                        detail: live ? [:] : ["reason": "authorisation_ended"]
                    )
                )
                return (found, live)
            }
            guard live else {
                throw Problem(.authorisationRequired, "the authorisation this report was produced under has ended (revoked or expired)")
            }
            return reportResponse(found.report)
        }
        api.on(.get, "/v1/reports/:number/verification") { call in
            try publicLimiter.check(call)
            let number = try call.parameter("number")
            let code = call.request.uri.queryParameters.get("code")
            if let code, code.count != 10 { throw Problem.invalid("code", "the 10-character verification code printed on the report") }
            let signer = try actions.requireSigner()
            let source = replica.database
            guard let found = try await source.withConnection({ c in try await Reports.find(c, logger: call.logger, number: number) })
            else {
                throw Problem(.notFound, "no report \(number)")
            }
            let r = found.report
            // A code that does not match is answered as an unknown report: nothing to learn.
            if let code, !constantTimeEqual(code, r.verifyCode ?? "") { throw Problem(.notFound, "no report \(number) with that code") }
            let valid =
                r.keyId == signer.keyId
                && ReportSigner.verify(canonical: r.canonical, signature: r.signature, publicKeyBase64: signer.publicKeyBase64)
            return try JSON.response(
                Verification(
                    number: number,
                    valid: valid,
                    keyId: r.keyId,
                    publicKey: signer.publicKeyBase64,
                    detail: valid ? "issued by this service and unchanged since" : "the stored report does not match its signature",
                    summary: code != nil && valid ? Summary(r) : nil
                )
            )
        }
        api.on(.get, "/v1/signing-key") { _ in
            let signer = try actions.requireSigner()
            return try JSON.response(SigningKey(keyId: signer.keyId, publicKey: signer.publicKeyBase64))
        }
    }
}

/// Compares two secrets in time that depends only on their lengths.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in x.indices { diff |= x[i] ^ y[i] }
    return diff == 0
}
