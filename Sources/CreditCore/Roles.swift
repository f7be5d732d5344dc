/// A person's (or a machine key's) role within its organisation (issue 22). Each kind of
/// organisation has its own roles, ranked: what a lower role may do, a higher one may too.
///
/// | kind | member (rank 1) | manager (rank 2) | admin (rank 3) |
/// |---|---|---|---|
/// | bank | `officer` | `manager` | `admin` |
/// | enterprise | `staff` | — | `legal_rep` |
/// | regulator, operator, procurement | `analyst` (regulator) / `staff` | — | `admin` |
public enum OrgRole: String, CaseIterable, Codable, Sendable {
    case officer
    case manager
    case admin
    case staff
    case legalRep = "legal_rep"
    case analyst

    /// What the role may do within its organisation.
    public enum Rank: Int, Comparable, Sendable, CaseIterable {
        /// Reads and everyday work (a bank officer reads, takes up, offers within the limit).
        case member = 1
        /// Decisions above a member: offers above the bank's limit, products published or retired.
        case manager = 2
        /// Users, keys and the organisation's settings.
        case admin = 3
        public static func < (a: Rank, b: Rank) -> Bool { a.rawValue < b.rawValue }
    }

    public var rank: Rank {
        switch self {
        case .officer, .staff, .analyst: .member
        case .manager: .manager
        case .admin, .legalRep: .admin
        }
    }

    /// The roles an organisation of this kind has, lowest first.
    public static func roles(of kind: OrgKind) -> [OrgRole] {
        switch kind {
        case .bank: [.officer, .manager, .admin]
        case .enterprise: [.staff, .legalRep]
        case .regulator: [.analyst, .admin]
        case .operator, .procurement: [.staff, .admin]
        }
    }

    /// The highest role of a kind (what keys issued before users existed act as).
    public static func highest(of kind: OrgKind) -> OrgRole { roles(of: kind).last! }

    /// Whether an organisation of this kind has the role.
    public func belongs(to kind: OrgKind) -> Bool { Self.roles(of: kind).contains(self) }

    /// Whether a bank or operator user must sign in with a second factor (TOTP).
    public static func secondFactorRequired(for kind: OrgKind) -> Bool { kind == .bank || kind == .operator }

    /// The role's name for people.
    public var words: (zh: String, en: String) {
        switch self {
        case .officer: ("客户经理", "Loan officer")
        case .manager: ("审批经理", "Credit manager")
        case .admin: ("管理员", "Administrator")
        case .staff: ("工作人员", "Staff")
        case .legalRep: ("法定代表人", "Legal representative")
        case .analyst: ("分析员", "Analyst")
        }
    }
}
