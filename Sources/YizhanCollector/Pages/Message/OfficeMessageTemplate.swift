extension OfficeTemplates {
    /// A message on the dashboard's layout (OfficeMessagePage).
    static let message = #"""
    {{< office-layout}}
    {{$main}}
    <p>{{message}}</p>
    {{/main}}
    {{/office-layout}}
    """#
}
