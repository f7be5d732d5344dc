import Foundation
import Testing

@testable import Server

/// `contracts/openapi.yaml` and the registered routes stay in step.
@Suite struct SpecTests {
    /// `METHOD /path` for every operation under `paths:` (`{param}` written `:param`).
    static func specRoutes() throws -> Set<String> {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("contracts/openapi.yaml"), encoding: .utf8)
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        var routes = Set<String>()
        var inPaths = false
        var currentPath: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if let first = line.first, !first.isWhitespace, first != "#" { break }  // next top-level key
            if line.hasPrefix("  /") && line.hasSuffix(":") && !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast())
                    .replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
            } else if line.hasPrefix("    ") && !line.hasPrefix("     "), let path = currentPath {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if line.hasSuffix(":"), methods.contains(String(key)) { routes.insert("\(key.uppercased()) \(path)") }
            }
        }
        return routes
    }

    @Test func everyRouteIsInTheSpecAndEverySpecRouteExists() throws {
        let spec = try Self.specRoutes()
        let server = Set(AccessPolicy.rules.map(\.key))
        #expect(!spec.isEmpty)
        #expect(server.subtracting(spec).isEmpty, "routes missing from contracts/openapi.yaml: \(server.subtracting(spec).sorted())")
        #expect(spec.subtracting(server).isEmpty, "spec routes the server lacks: \(spec.subtracting(server).sorted())")
    }

    @Test func everyProblemTypeIsDocumented() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("contracts/openapi.yaml"), encoding: .utf8)
        for kind in Problem.Kind.allCases {
            #expect(text.contains(kind.uri), "contracts/openapi.yaml lacks \(kind.uri)")
        }
    }
}
