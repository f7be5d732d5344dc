/// What makes an API key or an authorisation live, named once: every query that depends on it
/// interpolates these (`\(unescaped: Live.key("k"))` in a query, plain interpolation in SQL
/// text), so that the rule cannot drift between the places that check it.
enum Live {
    /// An API key not revoked and not expired (a key without an expiry does not expire).
    /// `alias`: how the query names the `api_keys` row.
    static func key(_ alias: String = "api_keys") -> String {
        "\(alias).revoked_at IS NULL AND (\(alias).expires_at IS NULL OR \(alias).expires_at > now())"
    }

    /// An authorisation not revoked and not expired. `alias`: how the query names the
    /// `authorisation` row.
    static func authorisation(_ alias: String = "authorisation") -> String {
        "\(alias).revoked_at IS NULL AND \(alias).expires_at > now()"
    }
}
