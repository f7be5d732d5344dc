import Curl
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The libcurl client against a real Hummingbird server on loopback.
@Suite struct CurlClientTests {
    func testApp() -> some ApplicationProtocol {
        let router = Router()
        router.get("/ok") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain", .init("X-Thing")!: "yes"],
                body: .init(byteBuffer: ByteBuffer(string: "hello"))
            )
        }
        router.get("/big") { _, _ in ByteBuffer(repeating: 0x41, count: 200_000) }
        router.get("/slow") { _, _ in
            try await Task.sleep(for: .seconds(3))
            return "late"
        }
        router.get("/status/:code") { _, context in
            Response(status: .init(code: Int(context.parameters.get("code") ?? "500") ?? 500))
        }
        router.post("/echo") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let method = request.method.rawValue
            return Response(status: .ok, headers: [.init("X-Method")!: method], body: .init(byteBuffer: body))
        }
        router.get("/headers") { request, _ in
            request.headers[.init("X-Probe")!] ?? "none"
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test func getsStatusHeadersAndBody() async throws {
        let curl = CurlClient()
        try await testApp().test(.live) { client in
            let base = "http://127.0.0.1:\(client.port!)"
            let r = try await curl.perform(CurlRequest(url: base + "/ok"))
            #expect(r.status == 200)
            #expect(String(decoding: r.body, as: UTF8.self) == "hello")
            #expect(r.headers["x-thing"] == "yes")
            let probe = try await curl.perform(CurlRequest(url: base + "/headers", headers: [("X-Probe", "42")]))
            #expect(String(decoding: probe.body, as: UTF8.self) == "42")
            let echo = try await curl.perform(CurlRequest(url: base + "/echo", method: "POST", body: Array("{\"a\":1}".utf8)))
            #expect(String(decoding: echo.body, as: UTF8.self) == "{\"a\":1}")
            #expect(echo.headers["x-method"] == "POST")
            let missing = try await curl.perform(CurlRequest(url: base + "/status/503"))
            #expect(missing.status == 503)
        }
        curl.shutdown()
    }

    @Test func manyConcurrentTransfersAllComplete() async throws {
        let curl = CurlClient(maxConcurrentTransfers: 8)
        try await testApp().test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)/ok"
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 {
                    group.addTask { String(decoding: try await curl.perform(CurlRequest(url: url)).body, as: UTF8.self) }
                }
                var all: [String] = []
                for try await b in group { all.append(b) }
                return all
            }
            #expect(bodies.count == 100 && bodies.allSatisfy { $0 == "hello" })
        }
        curl.shutdown()
    }

    @Test func limitsAreEnforced() async throws {
        let curl = CurlClient()
        try await testApp().test(.live) { client in
            let base = "http://127.0.0.1:\(client.port!)"
            await #expect(throws: CurlError.responseTooLarge(limit: 1000)) {
                try await curl.perform(CurlRequest(url: base + "/big", maxResponseBytes: 1000))
            }
            await #expect {
                try await curl.perform(CurlRequest(url: base + "/slow", totalTimeoutMilliseconds: 200))
            } throws: { error in
                guard let e = error as? CurlError, case .timedOut = e else { return false }
                return e.isTransient
            }
            await #expect(throws: CurlError.self) {
                try await curl.perform(CurlRequest(url: "ftp://127.0.0.1/x"))
            }
            await #expect(throws: CurlError.self) {
                try await curl.perform(CurlRequest(url: base + "/ok", headers: [("Bad\nHeader", "x")]))
            }
        }
        curl.shutdown()
    }

    @Test func aRefusedConnectionIsTransient() async throws {
        let curl = CurlClient()
        await #expect {
            try await curl.perform(CurlRequest(url: "http://127.0.0.1:1/none", connectTimeoutMilliseconds: 500))
        } throws: { error in
            (error as? CurlError)?.isTransient == true
        }
        curl.shutdown()
    }

    @Test func cancellationEndsATransferInFlight() async throws {
        let curl = CurlClient()
        try await testApp().test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)/slow"
            let task = Task { try await curl.perform(CurlRequest(url: url)) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
        }
        curl.shutdown()
    }

    @Test func aShutDownClientRefuses() async throws {
        let curl = CurlClient()
        curl.shutdown()
        await #expect(throws: CurlError.shutDown) { try await curl.perform(CurlRequest(url: "http://127.0.0.1:1/")) }
    }
}
