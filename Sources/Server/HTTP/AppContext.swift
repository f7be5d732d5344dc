import Hummingbird
import Store

/// The request context of every route.
public struct AppContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `RequestIDMiddleware`: always the service's own, in every log line, audit row and
    /// problem body, and in `X-Xyd-Request-Id`.
    public var requestId: String = ""
    /// The caller's own `X-Request-Id`, when it is a short token: echoed back, logged and kept in
    /// audit rows beside the service's id — never in its place.
    public var clientRequestId: String?
    /// Largest body this request may send; set from configuration by `BodyLimitMiddleware`.
    public var bodyLimit: Int = AppConfig.defaultMaxBodyBytes

    /// The client's IP address (for the public routes' rate limit), when the connection has one.
    public var clientAddress: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { bodyLimit }
}
