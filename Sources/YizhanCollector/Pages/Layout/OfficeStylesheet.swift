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
    .crumbs ol { list-style: none; display: flex; flex-wrap: wrap; gap: 4px; padding: 0; margin: 0 0 12px; font-size: 16px; }
    .crumbs li + li::before { content: "›"; margin: 0 6px; color: #555; } .crumbs [aria-current] { font-weight: bold; }
    .period { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px; background: #f3f5f7; margin-bottom: 12px; }
    .presets { display: flex; gap: 10px; flex-wrap: wrap; } .muted { color: #555; }
    .headlines { max-width: 900px; } .headlines .figure { font-size: 18px; font-weight: bold; }
    .chg-up { color: #0b3d91; } .chg-down { color: #8a3b00; } .chg-flat, .chg-none { color: #444; }
    .rankings { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; } caption { text-align: left; font-weight: bold; padding: 4px 0; }
    .map { max-width: 900px; } .legend { list-style: none; display: flex; flex-wrap: wrap; gap: 16px; padding: 0; } .legend svg { vertical-align: middle; }
    table { overflow-wrap: anywhere; }
    """#
}
