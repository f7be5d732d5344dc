import Hummingbird
import Store

/// The request context of every route.
public struct AppContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `RequestIDMiddleware`; echoed in `X-Request-Id` and every log line.
    public var requestId: String = ""
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
