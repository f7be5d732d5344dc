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
}

public enum DemandError: Error, CustomStringConvertible {
    case notFound(UUID)
    case state(current: DemandState, wanted: String)
    case noProfile(String)
    case notYourProduct(UUID)
    /// Terms outside what the demand asked or the product offers: (field, the bound) each.
    case outOfBounds([(field: String, bound: String)])
    case tooManyOpen(Int)
    public var description: String {
        switch self {
        case .outOfBounds(let errors): errors.map { "\($0.field): \($0.bound)" }.joined(separator: "; ")
        case .tooManyOpen(let n): "at most \(n) demands may be open or taken up at once: withdraw one first"
        case .notYourProduct(let id): "no product \(id) of yours that is published, paused or retired"
        case .notFound(let id): "no demand \(id) of yours"
        case .state(let current, let wanted): "the demand is \(current.rawValue): it cannot be \(wanted)"
        case .noProfile(let uscc): "no credit profile of \(uscc) yet: its records have not been scored"
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
