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
    /// A key issued over the API without an expiry runs this long (a machine's key is rotated
    /// at least yearly). Only an operator at the server's command line issues keys that never expire.
    public static let keyDefaultValidityDays = 365
    /// Live (unrevoked, unexpired) keys an organisation may hold at once.
    public static let maxLiveKeysPerOrganisation = 20
}
