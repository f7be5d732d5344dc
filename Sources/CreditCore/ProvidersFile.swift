import Foundation

/// A provider's account as the providers file (`xyd ingest --providers FILE`) holds it.
public struct ProviderAccount: Codable, Sendable, Equatable {
    public var name: String
    public var baseURL: String
    public var appKey: String
    public var appSecret: String?
    public var appSecretEnv: String?
    public var datasets: [String]

    enum CodingKeys: String, CodingKey {
        case name, datasets
        case baseURL = "base_url"
        case appKey = "app_key"
        case appSecret = "app_secret"
        case appSecretEnv = "app_secret_env"
    }

    public init(name: String, baseURL: String, appKey: String, appSecret: String?, appSecretEnv: String? = nil, datasets: [String]) {
        self.name = name
        self.baseURL = baseURL
        self.appKey = appKey
        self.appSecret = appSecret
        self.appSecretEnv = appSecretEnv
        self.datasets = datasets
    }
}

public struct ProvidersFile: Codable, Sendable {
    public var providers: [ProviderAccount]
    public init(providers: [ProviderAccount]) { self.providers = providers }
}

extension ProvidersFile {
    /// The file's problems, each naming the provider and field; empty when usable.
    public func problems(environment: [String: String]) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for (i, p) in providers.enumerated() {
            let at = "providers[\(i)] (\(p.name))"
            guard let provider = ProviderName(rawValue: p.name) else {
                problems.append("\(at).name: one of \(ProviderName.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            if !seen.insert(p.name).inserted { problems.append("\(at): listed twice") }
            if !(p.baseURL.hasPrefix("http://") || p.baseURL.hasPrefix("https://")) {
                problems.append("\(at).base_url: an http:// or https:// URL")
            }
            if p.appKey.isEmpty { problems.append("\(at).app_key: required") }
            switch (p.appSecret, p.appSecretEnv) {
            case (nil, nil): problems.append("\(at): app_secret or app_secret_env is required")
            case (nil, let name?) where environment[name]?.isEmpty ?? true:
                problems.append("\(at).app_secret_env: the variable \(name) is not set")
            default: break
            }
            for d in p.datasets {
                guard let dataset = Dataset(rawValue: d) else {
                    problems.append("\(at).datasets: unknown dataset \(d)")
                    continue
                }
                if dataset.provider != provider { problems.append("\(at).datasets: \(d) belongs to \(dataset.provider.rawValue)") }
            }
        }
        return problems
    }

    /// The secret of an account: inline, or from the named environment variable.
    public static func secret(of account: ProviderAccount, environment: [String: String]) -> String? {
        account.appSecret ?? account.appSecretEnv.flatMap { environment[$0] }
    }
}
