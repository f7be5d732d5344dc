import Foundation

/// A demand of the simulated market's past, with what became of it: what `xyd simulate-market`
/// plans (Simulator) and writes (Store) behind the demo city.
public struct HistoricalDemand: Sendable {
    public let uscc: String
    public let postedAt: Date
    public let amountFen: Int64
    public let termMonths: Int
    public let firstLoan: Bool
    public let collateral: Bool
    public let purpose: String
    /// Banks (by index) matched to it, and those of them that passed.
    public let matched: [Int]
    public let passed: [Int]
    public let bank: Int?
    public let takenUpAt: Date?
    public let granted: Bool?
    public let decidedAt: Date?
    public let declineReason: String?
    public let rateBp: Int?
    public let disbursedOn: Day?
    public let state: String
    public let closedAt: Date?
    public let outcomes: [(month: String, status: String)]
    /// Other banks' parts: one that took the demand up and declined before `bank` took it (a
    /// referral), or a competing offer the business did not accept.
    public var others: [OtherPart] = []

    public struct OtherPart: Sendable {
        public let bank: Int
        public let takenUpAt: Date
        public let decidedAt: Date
        /// Declined with this reason; nil: it offered at `rateBp`, and the offer lapsed.
        public let declineReason: String?
        public let rateBp: Int?
        public init(bank: Int, takenUpAt: Date, decidedAt: Date, declineReason: String?, rateBp: Int?) {
            self.bank = bank
            self.takenUpAt = takenUpAt
            self.decidedAt = decidedAt
            self.declineReason = declineReason
            self.rateBp = rateBp
        }
    }

    public init(
        uscc: String,
        postedAt: Date,
        amountFen: Int64,
        termMonths: Int,
        firstLoan: Bool,
        collateral: Bool,
        purpose: String,
        matched: [Int],
        passed: [Int],
        bank: Int?,
        takenUpAt: Date?,
        granted: Bool?,
        decidedAt: Date?,
        declineReason: String?,
        rateBp: Int?,
        disbursedOn: Day?,
        state: String,
        closedAt: Date?,
        outcomes: [(month: String, status: String)]
    ) {
        self.uscc = uscc
        self.postedAt = postedAt
        self.amountFen = amountFen
        self.termMonths = termMonths
        self.firstLoan = firstLoan
        self.collateral = collateral
        self.purpose = purpose
        self.matched = matched
        self.passed = passed
        self.bank = bank
        self.takenUpAt = takenUpAt
        self.granted = granted
        self.decidedAt = decidedAt
        self.declineReason = declineReason
        self.rateBp = rateBp
        self.disbursedOn = disbursedOn
        self.state = state
        self.closedAt = closedAt
        self.outcomes = outcomes
    }
}
