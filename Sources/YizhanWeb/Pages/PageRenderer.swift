import Mustache

/// A page's view model: plain values built by pure code, rendered with one template.
public protocol PageModel {
    /// The name the template is registered under in the app's `PageRenderer`.
    static var template: String { get }
}

/// Both servers' pages: Mustache templates compiled into the binary as Swift string
/// constants (the station stays one static file), parsed once when the server starts and
/// rendered from view models. `{{value}}` escapes HTML (`& < > " '`, as `HTML.escape`);
/// `{{{value}}}` is only for markup the server drew itself (the dashboard's SVG charts),
/// never for a value that came from a user, a station or a request.
public struct PageRenderer: Sendable {
    /// A template that does not parse, with where.
    public struct TemplateError: Error, CustomStringConvertible {
        public var template: String
        public var line: Int
        public var column: Int
        public var reason: String
        public var description: String { "page template \"\(template)\" does not parse at line \(line), column \(column): \(reason)" }
    }

    private let library: MustacheLibrary
    /// The names of the registered templates (pages, layouts and partials).
    public let templateNames: Set<String>

    /// Parses every template (name → Mustache text); partials and layouts are referred to
    /// by these names (`{{> name}}`, `{{< name}}`).
    public init(templates: [String: String]) throws {
        var library = MustacheLibrary()
        for (name, text) in templates {
            do {
                library.register(try MustacheTemplate(string: text), named: name)
            } catch let e as MustacheTemplate.ParserError {
                throw TemplateError(template: name, line: e.context.lineNumber, column: e.context.columnNumber, reason: "\(e.error)")
            } catch {
                throw TemplateError(template: name, line: 0, column: 0, reason: "\(error)")
            }
        }
        self.library = library
        templateNames = Set(templates.keys)
    }

    /// The app's renderer, built once at start: a template that does not parse stops the
    /// server there, naming the template, rather than on the first request for the page.
    public static func compile(_ templates: [String: String]) -> PageRenderer {
        do {
            return try PageRenderer(templates: templates)
        } catch {
            fatalError("\(error)")
        }
    }

    /// The page for `model`, from the template its type names.
    public func render<Model: PageModel>(_ model: Model) -> String {
        render(model, template: Model.template)
    }

    public func render(_ model: Any, template: String) -> String {
        guard let html = library.render(model, withTemplate: template) else {
            preconditionFailure("no page template named \"\(template)\"")
        }
        return html
    }
}
