import CreditCore
import Foundation
import Logging
import PostgresNIO

public enum DemandState: String, Codable, CaseIterable, Sendable {
    case open
    case takenUp = "taken_up"
    case granted, declined, disbursed, withdrawn, expired
}

public struct Demand: Sendable, Encodable {
    public let id: UUID
    public let uscc: String
    public let amountFen: Int64
    public let termMonths: Int
    public let purpose: String
    public let collateralOffered: Bool
    public let firstLoan: Bool
    public let state: DemandState
    public let takenUpBy: UUID?
    public let createdAt: Date
    public let expiresAt: Date
    public let updatedAt: Date
    /// Take up or pass by this day (3 working days after posting).
    public let takeUpDueOn: String
    public let takenUpAt: Date?
    /// Decide by this day (10 working days after take-up).
    public let decisionDueOn: String?
    public let decidedAt: Date?
    public let grantedAmountFen: Int64?
    public let grantedTermMonths: Int?
    public let grantedRateBp: Int?
    public let declineReason: String?
    public let declineText: String?
    public let disbursedAmountFen: Int64?
    public let disbursedOn: String?
    /// Past its take-up or decision deadline (working days) without the step being taken.
    public let overdue: Bool
    /// How many banks may hold it at once (the setting when it was posted).
    public let maxBanks: Int
    /// After a decline, the other matching banks may take it up (the business's choice).
    public let referAfterDecline: Bool
    /// How the accepted offer is repaid.
    public let repayment: Repayment?
    /// The first loan as the service checked it at acceptance: no loan disbursed to this business
    /// through the service before, and the lender attested it from its own credit check (nil until
    /// an offer is accepted).
    public let firstLoanVerified: Bool?
    /// A bank's own part in the demand (its views only).
    public var offer: Offer? = nil

    /// The deadline the demand waits on now: a bank's take-up while open, its decision once taken
    /// up (as `overdue` reads them).
    public var dueOn: String { state == .open ? takeUpDueOn : (decisionDueOn ?? takeUpDueOn) }

    public var terms: DemandTerms {
        DemandTerms(amountFen: amountFen, termMonths: termMonths, collateralOffered: collateralOffered, firstLoan: firstLoan)
    }
}

public enum OutcomeError: Error, CustomStringConvertible {
    case month(String)
    public var description: String {
        switch self {
        case .month(let why): "month: \(why)"
        }
    }

    public var zh: String { "月份有误：只能登记放款当月至本月之间的月份。" }
}

public enum DemandError: Error, CustomStringConvertible {
    case notFound(UUID)
    case state(current: DemandState, wanted: String)
    case noProfile(String)
    case notYourProduct(UUID)
    /// Terms outside what the demand asked or the product offers: (field, the bound, in
    /// Chinese) each.
    case outOfBounds([(field: String, bound: String, zh: String)])
    case tooManyOpen(Int)
    /// As many banks as the demand allows hold it already.
    case full(Int)
    /// The demand's state allows the step, but not this bank's own part in it (not taken up by
    /// it, or already answered).
    case part(Offer.State?, wanted: String)
    case noOffer(UUID)
    /// The offer is no longer open (lapsed, declined, or past its validity).
    case offerNotOpen(UUID)
    public var description: String {
        switch self {
        case .full(let n): "\(n) banks hold this demand already: no more may take it up"
        case .part(let s, let wanted):
            switch s {
            case nil: "this bank has not taken the demand up: it cannot have \(wanted) it"
            case .offered?: "this bank has already made its offer on the demand: it cannot have \(wanted) it"
            case let s?: "this bank's part in the demand is \(s.rawValue): it cannot have \(wanted) it"
            }
        case .noOffer(let id): "no offer \(id) on this demand"
        case .offerNotOpen(let id): "offer \(id) is not open: only an offer still valid can be accepted"
        case .outOfBounds(let errors): errors.map { "\($0.field): \($0.bound)" }.joined(separator: "; ")
        case .tooManyOpen(let n): "at most \(n) demands may be open or taken up at once: withdraw one first"
        case .notYourProduct(let id): "no product \(id) of yours that is published, paused or retired"
        case .notFound(let id): "no demand \(id) of yours"
        case .state(let current, let wanted): "the demand is \(current.rawValue): it cannot be \(wanted)"
        case .noProfile(let uscc): "no credit profile of \(uscc) yet: its records have not been scored"
        }
    }

    /// The same, in Chinese, for pages.
    public var zh: String {
        let states: [DemandState: String] = [
            .open: "待受理", .takenUp: "已受理", .granted: "已批准", .declined: "已拒绝", .disbursed: "已放款", .withdrawn: "已撤回", .expired: "已过期",
        ]
        let wants: [String: String] = [
            "withdrawn": "撤回", "taken up": "受理", "passed": "放弃", "granted": "批准", "declined": "拒绝", "disbursed": "放款",
            "reported on": "登记还款表现", "offered": "报价", "accepted": "接受报价",
        ]
        switch self {
        case .full(let n): return "已有 \(n) 家银行受理这笔需求，不能再受理。"
        case .part(let s, _):
            switch s {
            case nil: return "本行尚未受理这笔需求，请先受理。"
            case .offered?: return "本行已对这笔需求报价，不能再报价或拒绝。"
            default: return "本行对这笔需求的处理已结束。"
            }
        case .noOffer: return "没有找到这份报价。"
        case .offerNotOpen: return "这份报价已失效，只能接受仍在有效期内的报价。"
        case .outOfBounds(let errors): return errors.map(\.zh).joined(separator: "；")
        case .tooManyOpen(let n): return "同时待受理或已受理的融资需求最多 \(n) 笔：请先撤回一笔。"
        case .notYourProduct: return "所选产品不是本行已发布的产品。"
        case .notFound: return "没有找到这笔融资需求。"
        case .state(let current, let wanted):
            return "这笔需求目前\(states[current] ?? "状态已变")，不能\(wants[wanted] ?? "进行此操作")。"
        case .noProfile: return "还没有信用档案：数据到达并评分后才能发布融资需求。"
        }
    }
}

/// A published product with what matching needs.
public struct ListedProduct: Sendable {
    public let id: UUID
    public let bankOrgId: UUID
    public let bankName: String
    public let name: String
    public let terms: ProductTerms
}
