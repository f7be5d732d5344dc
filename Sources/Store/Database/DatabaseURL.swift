import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection URL: `postgres://user:password@host:port/database?sslmode=disable`.
///
/// `sslmode` is `disable` (default for loopback hosts), `prefer` or `require` (default
/// otherwise). `host` may also be given as a query parameter naming a unix-socket folder.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public struct Invalid: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text) else {
            throw Invalid(reason: "expected postgres://user:password@host:port/database")
        }
        guard components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw Invalid(reason: "the scheme must be postgres:// or postgresql://")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw Invalid(reason: "a user name is required (postgres://USER@host/database)")
        }
        let database = String(components.percentEncodedPath.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(reason: "a database name is required (postgres://user@host/DATABASE)")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { _, last in last }
        )
        self.username = user
        self.password = components.percentEncodedPassword?.removingPercentEncoding
        self.database = database
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        self.port = components.port ?? 5432
        guard (1...65535).contains(self.port) else { throw Invalid(reason: "the port must be 1 to 65535") }
        if let socket = query["host"], socket.hasPrefix("/") { self.socketDirectory = socket }
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(self.host) || self.socketDirectory != nil
        if let mode = query["sslmode"] {
            guard let parsed = TLSMode(rawValue: mode) else {
                throw Invalid(reason: "sslmode must be disable, prefer or require, not '\(mode)'")
            }
            self.tls = parsed
        } else {
            self.tls = loopback ? .disable : .require
        }
    }

    /// The URL without its password, safe to print and log.
    public var description: String {
        let auth = password == nil ? username : "\(username):***"
        return "postgres://\(auth)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    public func clientConfiguration() -> PostgresClient.Configuration {
        if let socketDirectory {
            return .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)",
                username: username,
                password: password,
                database: database
            )
        }
        let tlsConfiguration: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsConfiguration = .disable
        case .prefer: tlsConfiguration = .prefer(.makeClientConfiguration())
        case .require: tlsConfiguration = .require(.makeClientConfiguration())
        }
        return .init(host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration)
    }

    /// The same server and credentials, another database (tests create their own).
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    public var urlString: String {
        var c = URLComponents()
        c.scheme = "postgres"
        c.user = username
        c.password = password
        c.host = host
        c.port = port
        c.path = "/" + database
        var items = [URLQueryItem(name: "sslmode", value: tls.rawValue)]
        if let socketDirectory { items.append(URLQueryItem(name: "host", value: socketDirectory)) }
        c.queryItems = items
        return c.string ?? description
    }
}
