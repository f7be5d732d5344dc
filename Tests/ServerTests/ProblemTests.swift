import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Server

/// Every error is application/problem+json with a stable type, a title and the request id.
@Suite struct ProblemTests {
    func check(_ response: TestResponse, _ kind: Problem.Kind, path: String) throws {
        #expect(response.status == kind.status)
        #expect(response.headers[.contentType] == "application/problem+json")
        let problem = try decodeProblem(response)
        #expect(problem.type == kind.uri)
        #expect(problem.title == kind.title)
        #expect(problem.status == Int(kind.status.code))
        #expect(problem.instance == path)
        #expect(!problem.request_id.isEmpty)
        #expect(response.headers[.init("X-Request-Id")!] == problem.request_id)
        let text = String(buffer: response.body)
        #expect(!text.contains("PSQLError") && !text.contains("SELECT"))
    }

    @Test func errorStatusesHaveTheirProblemShape() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let op = bearer(keys.byKind[.operator]!)
            let app = try buildApplication(try testConfig(db, ["XYD_MAX_BODY_BYTES": "2048"]))
            try await app.test(.router) { client in
                try check(
                    try await client.execute(uri: "/v1/orgs", method: .post, headers: op.merging(.json), body: jsonBody("{\"kind\":")),
                    .badRequest,
                    path: "/v1/orgs"
                )
                try check(try await client.execute(uri: "/v1/orgs", method: .get), .unauthorized, path: "/v1/orgs")
                try check(
                    try await client.execute(uri: "/v1/orgs", method: .get, headers: bearer(keys.byKind[.bank]!)),
                    .forbidden,
                    path: "/v1/orgs"
                )
                try check(try await client.execute(uri: "/nowhere", method: .get), .notFound, path: "/nowhere")
                let notAllowed = try await client.execute(uri: "/v1/orgs", method: .put, headers: op)
                try check(notAllowed, .methodNotAllowed, path: "/v1/orgs")
                #expect(notAllowed.headers[.allow] == "GET, POST")
                let big = String(repeating: "x", count: 4096)
                try check(
                    try await client.execute(
                        uri: "/v1/orgs",
                        method: .post,
                        headers: op.merging(.json),
                        body: jsonBody(#"{"kind":"bank","name":"\#(big)"}"#)
                    ),
                    .payloadTooLarge,
                    path: "/v1/orgs"
                )
                try check(
                    try await client.execute(
                        uri: "/v1/orgs",
                        method: .post,
                        headers: op.merging([.contentType: "text/plain"]),
                        body: jsonBody("hi")
                    ),
                    .unsupportedMediaType,
                    path: "/v1/orgs"
                )
                try check(
                    try await client.execute(uri: "/v1/orgs/not-a-uuid", method: .get, headers: op),
                    .notFound,
                    path: "/v1/orgs/not-a-uuid"
                )
            }
        }
    }

    @Test func aCallersRequestIdIsEchoedAndAnUnsafeOneReplaced() async throws {
        try await TestDatabase.with { db in
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                let id = HTTPField.Name("X-Request-Id")!
                let echoed = try await client.execute(uri: "/healthz", method: .get, headers: [id: "abc-123"])
                #expect(echoed.headers[id] == "abc-123")
                let replaced = try await client.execute(uri: "/healthz", method: .get, headers: [id: "<script>"])
                #expect(replaced.headers[id] != "<script>")
                #expect(replaced.headers[id]?.count == 16)
            }
        }
    }
}
