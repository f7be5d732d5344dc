/// The kinds of organisation that use the service. A key belongs to one organisation and
/// acts with its kind as its role.
public enum OrgKind: String, CaseIterable, Codable, Sendable, Comparable {
    case bank
    case enterprise
    case regulator
    case `operator`
    case procurement

    public static func < (a: OrgKind, b: OrgKind) -> Bool { a.rawValue < b.rawValue }
}

/// Limits of the organisation register, named once.
public enum OrganisationLimits {
    public static let nameMaxCharacters = 200
    public static let keyLabelMaxCharacters = 100
    /// The longest validity a key may be issued with.
    public static let keyMaxValidityDays = 3 * 366
}
