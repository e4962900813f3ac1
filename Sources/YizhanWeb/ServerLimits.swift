import Hummingbird
import HummingbirdCore
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// How much of a server one client may hold: connections, time and bytes. The same
/// shape for both servers; each picks its numbers.
public struct ServerLimits: Sendable, Hashable {
    /// Open connections at once; further clients wait in the listen backlog.
    public var maximumConnections: Int
    /// A connection with no request in flight is closed after this long. Hummingbird's
    /// idle timer runs until a request's head is complete, so this is also the header
    /// timeout (slowloris).
    public var idleTimeout: Duration
    /// Time for a whole request body to arrive.
    public var bodyTimeout: Duration
    public var maximumURIBytes: Int
    public var maximumHeaderBytes: Int

    public init(maximumConnections: Int, idleTimeout: Duration = .seconds(30), bodyTimeout: Duration = .seconds(30),
                maximumURIBytes: Int = 8 * 1024, maximumHeaderBytes: Int = 16 * 1024) {
        self.maximumConnections = maximumConnections; self.idleTimeout = idleTimeout; self.bodyTimeout = bodyTimeout
        self.maximumURIBytes = maximumURIBytes; self.maximumHeaderBytes = maximumHeaderBytes
    }

    public func applicationConfiguration(address: BindAddress, serverName: String, logger: Logger) -> ApplicationConfiguration {
        ApplicationConfiguration(address: address, serverName: serverName, backlog: 256,
                                 availableConnectionsDelegate: MaximumAvailableConnections(maximumConnections, logger: logger))
    }

    /// HTTP/1 with the idle timeout, the parser's own limits (well above ours, so the
    /// middleware answers first with 414/431; past them the parser stops and
    /// `ParserErrorResponder` answers) and JSON for what the parser refuses.
    public var server: HTTPServerBuilder {
        let idle = TimeAmount.nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000
                                          + idleTimeout.components.attoseconds / 1_000_000_000)
        let parserLimit = max(4 * (maximumURIBytes + maximumHeaderBytes), 64 * 1024)
        // The handlers' own body timeout answers 408 first; the deadline is the backstop.
        let deadline = TimeAmount.seconds(5)
            + .nanoseconds(Int64(bodyTimeout.components.seconds) * 1_000_000_000 + bodyTimeout.components.attoseconds / 1_000_000_000)
        return .http1(configuration: .init(
            additionalChannelHandlers: [ParserErrorResponder(), RequestDeadline(deadline)],
            idleTimeout: idle,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: parserLimit, maxHeaderListSize: parserLimit, maxHeaderFieldCount: 200)))
    }
}

/// The size of the request line and headers (414, 431), checked before any handler.
/// (`HEAD` is answered by the routers' `.autoGenerateHeadEndpoints`.)
public struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    let limits: ServerLimits
    public init(_ limits: ServerLimits) { self.limits = limits }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.string.utf8.count <= limits.maximumURIBytes else {
            throw APIErrorResponse(.uriTooLong, "uri_too_long", "the request target is over \(limits.maximumURIBytes) bytes")
        }
        var headerBytes = 0
        for field in request.headers { headerBytes += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        guard headerBytes <= limits.maximumHeaderBytes else {
            throw APIErrorResponse(.requestHeaderFieldsTooLarge, "headers_too_large", "the headers are over \(limits.maximumHeaderBytes) bytes")
        }
        return try await next(request, context)
    }
}

/// What NIO's HTTP parser refuses (headers over its limit, a malformed request line)
/// would otherwise close the connection after an empty 400. This answers first, as JSON:
/// 431 for headers too large, 400 for the rest, then closes.
final class ParserErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let (status, code, message): (HTTPResponse.Status, String, String) = switch parserError {
        case .headerOverflow: (.requestHeaderFieldsTooLarge, "headers_too_large", "the request line or headers are too large")
        case .invalidURL: (.badRequest, "bad_request", "the request target is not a valid URL")
        default: (.badRequest, "bad_request", "the request is not valid HTTP/1.1")
        }
        let body = ByteBuffer(string: #"{"error":"\#(code)","message":"\#(message)"}"#)
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: "application/json; charset=utf-8", .contentLength: "\(body.readableBytes)", .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

/// Closes a connection whose request has not arrived whole within the deadline (the body
/// timeout and five seconds). The body timeout lives in the handlers that read bodies; a
/// request answered without reading its body (an unknown route, a health check) had its
/// body drained by the server with no limit, and the idle timer does not run while a
/// request is in flight: a client dripping one chunk every few seconds held the
/// connection for ever, and with as many of them as the connection limit, the server.
final class RequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let deadline: TimeAmount
    private var timer: Scheduled<Void>?

    init(_ deadline: TimeAmount) { self.deadline = deadline }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            timer?.cancel()
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
        case .end:
            timer?.cancel()
            timer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}
