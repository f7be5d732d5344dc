import CreditCore
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Store

/// The regulators' statistics (C9): aggregates only, read from the summary tables, as JSON or
/// CSV (`Accept: text/csv` or `?format=csv`). Each read is audited.
struct RegulatorRoutes {
    let db: Database
    /// The tables are computed here (a fresh replica, else `db`); the audit row is written on `db`.
    let reads: Reads
    let cache: StatCache

    static let prefix = "/v1/regulator"
    static let sizes: Set<String> = ["micro", "small", "medium", "large"]
    static let productKinds: Set<String> = ["credit", "secured", "guaranteed"]

    /// The filters of a request, checked; every bad one named in one 422.
    static func filter(_ call: Call) throws -> StatFilter {
        let q = call.request.uri.queryParameters
        var f = StatFilter()
        var errors: [Problem.FieldError] = []
        func month(_ name: String) -> String? {
            guard let v = q.get(name) else { return nil }
            if MonthIndex(period: v) == nil || v.count != 7 { errors.append(.init(field: name, reason: "a month YYYY-MM")) }
            return v
        }
        f.from = month("from")
        f.to = month("to")
        if let from = f.from, let to = f.to, from > to {
            errors.append(.init(field: "to", reason: "a month not before `from`"))
        }
        if let d = q.get("district") {
            if d.count != 6 || !d.allSatisfy(\.isASCII) || !d.allSatisfy(\.isNumber) {
                errors.append(.init(field: "district", reason: "a 6-digit district code"))
            }
            f.district = d
        }
        if let i = q.get("industry") {
            if i.count != 1 || !("A"..."T").contains(i) {
                errors.append(.init(field: "industry", reason: "an industry section letter A–T"))
            }
            f.industry = i
        }
        if let s = q.get("size") {
            if !sizes.contains(s) { errors.append(.init(field: "size", reason: "one of \(sizes.sorted().joined(separator: ", "))")) }
            f.size = s
        }
        if let b = q.get("bank") {
            if let id = UUID(uuidString: b) {
                f.bank = id
            } else {
                errors.append(.init(field: "bank", reason: "a bank's organisation id (uuid)"))
            }
        }
        if let k = q.get("product_kind") {
            if !productKinds.contains(k) { errors.append(.init(field: "product_kind", reason: "one of credit, secured, guaranteed")) }
            f.productKind = k
        }
        guard errors.isEmpty else { throw Problem.invalid(errors) }
        return f
    }

    static func dimension(_ call: Call, allowed: [StatDimension], default value: StatDimension) throws -> StatDimension {
        guard let text = call.request.uri.queryParameters.get("by") else { return value }
        guard let d = StatDimension(rawValue: text), allowed.contains(d) else {
            throw Problem.invalid("by", "one of \(allowed.map(\.rawValue).joined(separator: ", "))")
        }
        return d
    }

    static let demandDimensions: [StatDimension] = [
        .month, .district, .industry, .size, .entityType, .farmer, .firstLoan, .bank, .productKind, .grade,
    ]

    func register(_ api: API) {
        // The demand tables: broken down by any dimension of a demand (by month unless asked).
        typealias ByDemand = @Sendable (PostgresConnection, Logger, StatDimension, StatFilter) async throws -> StatTable
        let byDemand: [(String, ByDemand)] = [
            ("funnel", { try await Stats.funnel($0, logger: $1, by: $2, filter: $3) }),
            ("timing", { try await Stats.timing($0, logger: $1, by: $2, filter: $3) }),
            ("referrals", { try await Stats.referrals($0, logger: $1, by: $2, filter: $3) }),
            ("first-loans", { try await Stats.firstLoans($0, logger: $1, by: $2, filter: $3) }),
            ("rates", { try await Stats.rates($0, logger: $1, by: $2, filter: $3) }),
        ]
        for (name, build) in byDemand {
            table(api, name) { c, call in
                try await build(c, call.logger, Self.dimension(call, allowed: Self.demandDimensions, default: .month), Self.filter(call))
            }
        }
        table(api, "declines") { c, call in try await Stats.declines(c, logger: call.logger, filter: Self.filter(call)) }
        table(api, "banks") { c, call in try await Stats.banks(c, logger: call.logger, filter: Self.filter(call)) }
        table(api, "quality") { c, call in try await Stats.quality(c, logger: call.logger) }
        table(api, "grades") { c, call in try await Stats.gradesByMonth(c, logger: call.logger) }
        table(api, "applicant-grades") { c, call in try await Stats.applicantGrades(c, logger: call.logger, filter: Self.filter(call)) }
        table(api, "governance") { c, call in try await Stats.governance(c, logger: call.logger) }
        table(api, "commitments") { c, call in try await Stats.commitments(c, logger: call.logger) }
        table(api, "repairs") { c, call in try await Stats.repairs(c, logger: call.logger) }
        table(api, "stability") { c, call in try await Stats.stability(c, logger: call.logger) }
        table(api, "separation") { c, call in try await Stats.separation(c, logger: call.logger, filter: Self.filter(call)) }
        table(api, "segments") { c, call in
            try await Stats.segments(
                c,
                logger: call.logger,
                by: Self.dimension(call, allowed: [.district, .industry, .size], default: .district),
                filter: Self.filter(call)
            )
        }
    }

    /// One statistics route: the table (kept until the next rebuild), audited, in the format asked for.
    func table(_ api: API, _ name: String, _ build: @escaping @Sendable (PostgresConnection, Call) async throws -> StatTable) {
        api.on(.get, "\(Self.prefix)/\(name)") { call in
            let csv = try Self.wantsCSV(call.request)
            // Keyed by what the answer depends on (parsed, so the order of the query's parameters
            // does not matter). A filter that does not parse keys by the raw query: the table
            // refuses it (422) where it takes filters, and a refusal is never kept.
            let breakdown = call.request.uri.queryParameters.get("by") ?? ""
            let key =
                (try? Self.filter(call)).map { StatCache.key("api", name, csv ? "csv" : "json", breakdown, filter: $0) }
                ?? "api|raw|\(name)|\(csv)|\(call.request.uri.query ?? "")"
            let text = try await cache.read(db, source: reads, call, key: key, detail: ["table": name]) { c in
                let t = try await build(c, call)
                return csv ? StatRender.csv(t) : StatRender.json(t).jsonText
            }
            let by = call.request.uri.queryParameters.get("by").map { "-by-" + $0.filter { $0.isLetter || $0 == "_" } } ?? ""
            return csv ? StatRender.csvResponse(text, filename: "\(name)\(by).csv") : StatRender.jsonResponse(text)
        }
    }

    /// What a statistics read asked for, for its audit row: the filters (validated) and the breakdown.
    static func auditDetail(_ call: Call, _ detail: [String: String]) -> [String: String] {
        var d = detail
        if let f = try? filter(call), !f.auditText.isEmpty { d["filters"] = f.auditText }
        if let by = call.request.uri.queryParameters.get("by"), StatDimension(rawValue: by) != nil { d["by"] = by }
        return d
    }

    /// CSV when `?format=csv` or `Accept: text/csv`; `?format=` other than json or csv is 422.
    static func wantsCSV(_ request: Request) throws -> Bool {
        switch request.uri.queryParameters.get("format") {
        case "csv": return true
        case "json": return false
        case nil: return request.headers[.accept]?.lowercased().contains("text/csv") ?? false
        default: throw Problem.invalid("format", "json or csv")
        }
    }
}

/// A statistics table as JSON or CSV. A hidden cell is the string `suppressed` in both.
enum StatRender {
    static func value(_ v: StatTable.Value) -> JSONValue {
        switch v {
        case .int(let n): .number(String(n))
        case .decimal(let d): .number(d)
        case .text(let t): .string(t)
        case .null: .null
        case .suppressed: .string("suppressed")
        }
    }

    static func row(_ r: StatTable.Row, _ columns: [StatTable.Column]) -> JSONValue {
        var values: JSONObject = [:]
        for (c, v) in zip(columns, r.values) { values[c.name] = value(v) }
        return ["key": .string(r.key), "suppressed": .bool(r.suppressed), "values": .object(values)]
    }

    static func json(_ t: StatTable) -> JSONValue {
        var o: JSONObject = [
            "table": .string(t.name),
            "by": t.by.map(JSONValue.string) ?? .null,
            "columns": .array(t.columns.map { ["name": .string($0.name), "unit": .string($0.unit.rawValue)] }),
            "rows": .array(t.rows.map { row($0, t.columns) }),
            "total": t.total.map { row($0, t.columns) } ?? .null,
            "notes": .array(
                (t.notes + ["cells counting fewer than \(Suppression.threshold) enterprises are suppressed"]
                    + (t.rebuildFailedAt == nil ? [] : ["stale: the latest rebuild failed; these figures are from refreshed_at"]))
                    .map(JSONValue.string)
            ),
        ]
        o["refreshed_at"] = t.refreshedAt.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null
        o["rebuild_failed_at"] = t.rebuildFailedAt.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null
        return .object(o)
    }

    static func jsonResponse(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A text cell, quoted when it must be, and never read as a formula by a spreadsheet: a cell
    /// starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's
    /// advice against CSV injection). Numbers are written by `csvValue` and left alone.
    static func csvField(_ raw: String) -> String {
        let s = raw.first.map { "=+-@\t\r".contains($0) } == true ? "'" + raw : raw
        return s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func csvValue(_ v: StatTable.Value) -> String {
        switch v {
        case .int(let n): String(n)
        case .decimal(let d): d
        case .text(let t): csvField(t)
        case .null: ""
        case .suppressed: "suppressed"
        }
    }

    /// Header `key,COLUMN…`; one line per row; the total last, keyed `total`.
    static func csv(_ t: StatTable) -> String {
        var out = ([t.by ?? "key"] + t.columns.map(\.name)).joined(separator: ",") + "\r\n"
        for r in t.rows + (t.total.map { [$0] } ?? []) {
            out += ([csvField(r.key)] + r.values.map(csvValue)).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func csvResponse(_ text: String, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
