extension OfficeTemplates {
    /// The dashboard's one stylesheet (inline: the pages' CSP allows no other).
    static let stylesheet = #"""
    body { font-family: "Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif; margin: 0; color: #111; background: #fff; }
    header { background: #123; color: #fff; padding: 12px 20px; } h1 { margin: 0; font-size: 20px; }
    nav { display: flex; gap: 16px; align-items: center; padding: 8px 20px; background: #e8eef3; } nav form { margin: 0 0 0 auto; }
    main { padding: 16px 20px; } table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ccd; padding: 6px 8px; text-align: left; }
    th { background: #f3f5f7; } .online { color: #0a6b2d; } .offline, .error { color: #a00000; font-weight: bold; } a { color: #0b3d91; }
    .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; } figure { margin: 0; }
    figcaption { font-weight: bold; margin-bottom: 4px; } .chart { width: 100%; height: auto; background: #fafbfc; } .chart text { fill: #222; }
    .login { display: grid; gap: 8px; max-width: 320px; } .big { font-size: 18px; }
    """#
}
