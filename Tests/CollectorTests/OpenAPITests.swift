import AsyncHTTPClient
import Foundation
import Testing
@testable import YizhanCollector

/// docs/openapi.json and the code must agree: the same routes, and each documented route
/// answers (no 404/405) with one of its documented statuses.
@Suite struct OpenAPITests {
    let document: [String: Any] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try! Data(contentsOf: root.appendingPathComponent("docs/openapi.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    var documented: [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for (path, item) in document["paths"] as! [String: [String: Any]] {
            for (method, operation) in item { out["\(method.uppercased()) \(path)"] = operation as? [String: Any] }
        }
        return out
    }

    @Test func theDocumentListsExactlyTheRoutesTheCodeServes() {
        let code = Set(CollectorHTTP.routes.map { "\($0.method) \($0.path)" })
        #expect(Set(documented.keys) == code)
        #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
    }

    @Test func everyDocumentedRouteAnswersWithADocumentedStatus() async throws {
        // Route → documented statuses, taken out of the untyped document before the closure.
        let routes: [(String, Set<String>)] = documented.map { ($0.key, Set(($0.value["responses"] as! [String: Any]).keys)) }
        try await withCollector { url, _ in
            for (route, statuses) in routes {
                let parts = route.split(separator: " ", maxSplits: 1)
                let reply = parts[0] == "GET"
                    ? try await get(url + parts[1], token: nil)
                    : try await post(url + parts[1], token: nil, body: Data("{}".utf8), method: String(parts[0]))
                #expect(statuses.contains(String(reply.status)), "\(route) answered \(reply.status), documented: \(statuses.sorted())")
                #expect(reply.status != 404 && reply.status != 405, "\(route) is not served")
            }
        }
    }

    @Test func everySchemaReferenceResolves() throws {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
        let components = document["components"] as! [String: [String: Any]]
        let regex = try NSRegularExpression(pattern: #"#\\?/components\\?/(schemas|responses)\\?/([A-Za-z]+)"#)
        let matches = regex.matches(in: text, range: NSRange(text.startIndex..., in: text))
        #expect(!matches.isEmpty)
        for m in matches {
            let kind = String(text[Range(m.range(at: 1), in: text)!]), name = String(text[Range(m.range(at: 2), in: text)!])
            #expect(components[kind]?[name] != nil, "unresolved #/components/\(kind)/\(name)")
        }
    }
}
