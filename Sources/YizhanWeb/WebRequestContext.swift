import Hummingbird
import NIOCore

/// The request context of both servers: Hummingbird's basic one plus the client's socket
/// address, which the login throttle keys on.
public struct WebRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address (a unix-socket client is "local").
    public var clientAddress: String {
        guard let remoteAddress else { return "unknown" }
        return remoteAddress.ipAddress ?? "local"
    }
}
