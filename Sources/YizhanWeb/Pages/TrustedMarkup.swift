import Mustache

/// Markup the server drew itself, with every text inside it escaped by the drawing code
/// (the dashboard's SVG charts): the one kind of value a template may put in `{{{ }}}`.
/// In `{{ }}` it is escaped like any other value.
public struct TrustedMarkup: MustacheCustomRenderable, Sendable, CustomStringConvertible {
    public let markup: String

    public init(drawnByServer markup: String) { self.markup = markup }

    public var renderText: String { markup }
    public var isNull: Bool { false }
    public var description: String { markup }
}
