import CCurl
import Foundation

/// One outbound HTTP request, with its limits.
public struct CurlRequest: Sendable {
    public var url: String
    public var method: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    public var connectTimeoutMilliseconds: Int
    public var totalTimeoutMilliseconds: Int
    public var maxResponseBytes: Int
    /// Sends `Accept-Encoding: gzip` and inflates a gzip answer.
    public var acceptGzip: Bool
    /// `CURLOPT_RESOLVE` entries (`host:port:address`, from `CurlTarget.pin`): libcurl connects
    /// to these addresses for these hosts instead of resolving the name again.
    public var pinned: [String] = []

    public static let defaultConnectTimeoutMilliseconds = 5_000
    public static let defaultTotalTimeoutMilliseconds = 60_000
    public static let defaultMaxResponseBytes = 64 << 20

    public init(
        url: String,
        method: String = "GET",
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        connectTimeoutMilliseconds: Int = defaultConnectTimeoutMilliseconds,
        totalTimeoutMilliseconds: Int = defaultTotalTimeoutMilliseconds,
        maxResponseBytes: Int = defaultMaxResponseBytes,
        acceptGzip: Bool = true
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.totalTimeoutMilliseconds = totalTimeoutMilliseconds
        self.maxResponseBytes = maxResponseBytes
        self.acceptGzip = acceptGzip
    }
}

public struct CurlResponse: Sendable {
    public let status: Int
    /// Header names lower-cased; the last value of a repeated header wins.
    public let headers: [String: String]
    public let body: [UInt8]
}

public enum CurlError: Error, Equatable, CustomStringConvertible {
    /// Connecting, sending or receiving failed: refused, reset, timed out, truncated (transient).
    case transport(code: Int, message: String)
    case timedOut(message: String)
    case responseTooLarge(limit: Int)
    /// The request itself is unusable (a bad URL, a disallowed protocol): not transient.
    case invalidRequest(String)
    case shutDown

    public var description: String {
        switch self {
        case .transport(let code, let message): "transfer failed (curl \(code)): \(message)"
        case .timedOut(let message): "timed out: \(message)"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .invalidRequest(let why): "invalid request: \(why)"
        case .shutDown: "the HTTP client is shut down"
        }
    }

    /// Worth retrying the same request.
    public var isTransient: Bool {
        switch self {
        case .transport, .timedOut: true
        case .responseTooLarge, .invalidRequest, .shutDown: false
        }
    }
}

/// An HTTP client over libcurl's multi interface. One dedicated thread owns the multi handle
/// and every easy handle; callers enqueue a request with a continuation and wake the thread
/// with `curl_multi_wakeup` (thread-safe). Blocking libcurl calls therefore never run on
/// Swift's cooperative pool or a NIO event loop. At most `maxConcurrentTransfers` run at
/// once; further requests wait in a bounded queue (`maxQueuedRequests`, refused beyond).
public final class CurlClient: @unchecked Sendable {
    public static let defaultMaxConcurrentTransfers = 32
    public static let defaultMaxQueuedRequests = 10_000
    static let pollTimeoutMilliseconds: Int32 = 1_000

    public let maxConcurrentTransfers: Int
    public let maxQueuedRequests: Int

    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    // Guarded by `lock`:
    private var queue: [Transfer] = []
    private var cancelled: Set<UInt64> = []
    private var stopping = false
    private var nextId: UInt64 = 0
    // Owned by the thread:
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    public init(
        maxConcurrentTransfers: Int = defaultMaxConcurrentTransfers,
        maxQueuedRequests: Int = defaultMaxQueuedRequests
    ) {
        precondition(Self.globalInit, "curl_global_init failed")
        precondition(maxConcurrentTransfers > 0 && maxQueuedRequests > 0)
        guard let multi = curl_multi_init() else { preconditionFailure("curl_multi_init failed") }
        self.multi = multi
        self.maxConcurrentTransfers = maxConcurrentTransfers
        self.maxQueuedRequests = maxQueuedRequests
        _ = xyd_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConcurrentTransfers)
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "xyd-curl"
        self.thread = thread
        thread.start()
    }

    deinit {
        shutdown()
        curl_multi_cleanup(multi)
    }

    /// Stops the thread; transfers in flight and queued fail with `.shutDown`. Idempotent.
    public func shutdown() {
        let first: Bool = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first, thread != nil else { return }
        curl_multi_wakeup(multi)
        finished.wait()
    }

    /// Performs one request; honours task cancellation.
    public func perform(_ request: CurlRequest) async throws -> CurlResponse {
        let transfer = Transfer(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CurlResponse, any Error>) in
                transfer.continuation = continuation
                let refusal: CurlError? = lock.withLock {
                    if stopping { return .shutDown }
                    if queue.count >= maxQueuedRequests {
                        return .invalidRequest("more than \(maxQueuedRequests) requests queued")
                    }
                    nextId += 1
                    transfer.id = nextId
                    queue.append(transfer)
                    return nil
                }
                if let refusal {
                    transfer.continuation = nil
                    continuation.resume(throwing: refusal)
                    return
                }
                curl_multi_wakeup(multi)
            }
        } onCancel: {
            lock.withLock { _ = cancelled.insert(transfer.id) }
            curl_multi_wakeup(multi)
        }
    }

    // MARK: the thread

    private func loop() {
        var running: Int32 = 0
        while true {
            let (stop, incoming, cancels) = takeWork()
            if stop { break }
            for id in cancels { cancel(id: id) }
            for transfer in incoming { start(transfer) }
            curl_multi_perform(multi, &running)
            var result = CURLE_OK
            while let easy = xyd_multi_next_done(multi, &result) {
                finish(easy: easy, result: result)
            }
            curl_multi_poll(multi, nil, 0, Self.pollTimeoutMilliseconds, nil)
        }
        for (easy, transfer) in active {
            curl_multi_remove_handle(multi, easy)
            transfer.release(easy)
            transfer.resume(.failure(CurlError.shutDown))
        }
        active.removeAll()
        let left = lock.withLock { () -> [Transfer] in
            defer { queue.removeAll() }
            return queue
        }
        for transfer in left { transfer.resume(.failure(CurlError.shutDown)) }
        finished.signal()
    }

    /// New transfers up to the concurrency limit, pending cancellations, and whether to stop.
    private func takeWork() -> (Bool, [Transfer], Set<UInt64>) {
        lock.withLock {
            let room = max(0, maxConcurrentTransfers - active.count)
            var cancels = cancelled
            cancelled.removeAll()
            // Cancelled before they started: answer at once.
            let (dropped, kept) = (queue.filter { cancels.contains($0.id) }, queue.filter { !cancels.contains($0.id) })
            for t in dropped {
                cancels.remove(t.id)
                t.resume(.failure(CancellationError()))
            }
            let take = Array(kept.prefix(room))
            queue = Array(kept.dropFirst(take.count))
            return (stopping, take, cancels)
        }
    }

    private func start(_ transfer: Transfer) {
        guard let easy = curl_easy_init() else {
            transfer.resume(.failure(CurlError.invalidRequest("curl_easy_init failed")))
            return
        }
        if let problem = transfer.configure(easy) {
            transfer.release(easy)
            transfer.resume(.failure(problem))
            return
        }
        active[easy] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func cancel(id: UInt64) {
        guard let (easy, transfer) = active.first(where: { $0.value.id == id }) else { return }
        curl_multi_remove_handle(multi, easy)
        active[easy] = nil
        transfer.release(easy)
        transfer.resume(.failure(CancellationError()))
    }

    private func finish(easy: UnsafeMutableRawPointer, result: CURLcode) {
        guard let transfer = active.removeValue(forKey: easy) else { return }
        curl_multi_remove_handle(multi, easy)
        var status = 0
        _ = xyd_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let outcome: Result<CurlResponse, any Error>
        if transfer.tooLarge {
            outcome = .failure(CurlError.responseTooLarge(limit: transfer.request.maxResponseBytes))
        } else if result == CURLE_OK {
            outcome = .success(CurlResponse(status: status, headers: transfer.headers, body: transfer.body))
        } else {
            let message = String(cString: curl_easy_strerror(result))
            switch result {
            case CURLE_OPERATION_TIMEDOUT: outcome = .failure(CurlError.timedOut(message: message))
            case CURLE_FILESIZE_EXCEEDED:
                outcome = .failure(CurlError.responseTooLarge(limit: transfer.request.maxResponseBytes))
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
                outcome = .failure(CurlError.invalidRequest(message))
            default: outcome = .failure(CurlError.transport(code: Int(result.rawValue), message: message))
            }
        }
        transfer.release(easy)
        transfer.resume(outcome)
    }
}

/// One request in flight: its buffers, and the C strings libcurl holds pointers to.
final class Transfer: @unchecked Sendable {
    let request: CurlRequest
    var id: UInt64 = 0
    var continuation: CheckedContinuation<CurlResponse, any Error>?
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var tooLarge = false
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?

    init(request: CurlRequest) { self.request = request }

    func resume(_ result: Result<CurlResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }

    /// Sets every option; returns a problem if one is refused.
    func configure(_ easy: UnsafeMutableRawPointer) -> CurlError? {
        let me = Unmanaged.passUnretained(self).toOpaque()
        var codes: [CURLcode] = []
        codes.append(xyd_easy_setopt_string(easy, CURLOPT_URL, request.url))
        codes.append(xyd_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        codes.append(xyd_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        codes.append(xyd_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        codes.append(xyd_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds))
        codes.append(xyd_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.totalTimeoutMilliseconds))
        codes.append(xyd_easy_setopt_offset(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)))
        if request.acceptGzip { codes.append(xyd_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "gzip")) }
        codes.append(xyd_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, curlWriteBody))
        codes.append(xyd_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me))
        codes.append(xyd_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        codes.append(xyd_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me))
        for (name, value) in request.headers {
            guard Transfer.isToken(name), !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                return .invalidRequest("header \(name.debugDescription) is not a valid header line")
            }
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        if let headerList { codes.append(xyd_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)) }
        for entry in request.pinned { resolveList = curl_slist_append(resolveList, entry) }
        if let resolveList { codes.append(xyd_easy_setopt_slist(easy, CURLOPT_RESOLVE, resolveList)) }
        if let body = request.body {
            codes.append(xyd_easy_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            codes.append(
                body.withUnsafeBytes { raw in
                    xyd_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                }
            )
        }
        if request.method != "GET" || request.body != nil {
            codes.append(xyd_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let bad = codes.first(where: { $0 != CURLE_OK }) {
            return .invalidRequest(String(cString: curl_easy_strerror(bad)))
        }
        return nil
    }

    /// An HTTP header name: a token of visible ASCII without separators.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { b in
                b > 0x20 && b < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(b)
            }
    }

    func release(_ easy: UnsafeMutableRawPointer) {
        curl_easy_cleanup(easy)
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        if let resolveList { curl_slist_free_all(resolveList) }
        resolveList = nil
    }

    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if body.count + bytes.count > request.maxResponseBytes {
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }  // a new response (after 100 Continue)
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers[name] = value
    }
}

private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    return transfer.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    transfer.header(line)
    return length
}
