import Hummingbird

/// A rendered page as both servers send it: UTF-8 HTML, never cached (pages show live
/// state and CSRF tokens), with the page's Content-Security-Policy.
public enum PageResponse {
    public static func html(_ page: String, status: HTTPResponse.Status = .ok, contentSecurityPolicy: String) -> Response {
        Response(status: status,
                 headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                           .init("Content-Security-Policy")!: contentSecurityPolicy],
                 body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
