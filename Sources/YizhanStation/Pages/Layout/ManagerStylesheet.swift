extension StationTemplates {
    /// The manager pages' one stylesheet (inline: the pages' CSP allows no other).
    static let managerStylesheet = #"""
    body { font-family: "Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif; margin: 0; color: #111; background: #fff; font-size: 16px; }
    header { background: #123; color: #fff; padding: 12px 20px; } header h1 { margin: 0; font-size: 20px; }
    nav { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 8px 20px; background: #e8eef3; }
    nav a { color: #0b3d91; } main { padding: 16px 20px; max-width: 1400px; }
    table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; } th, td { border-bottom: 1px solid #ccd; padding: 6px 8px; text-align: left; vertical-align: top; }
    th { background: #f3f5f7; } .inline { display: inline-flex; gap: 6px; flex-wrap: wrap; align-items: center; margin: 0; }
    .big { font-size: 20px; } .bad, .error, .amenity-out_of_order, .state-down { color: #a00000; font-weight: bold; }
    .amenity-degraded { color: #7a4d00; font-weight: bold; } .muted { color: #555; }
    button { font: inherit; padding: 4px 12px; } .danger { background: #a00000; color: #fff; border: 0; padding: 8px 16px; }
    .login { display: grid; gap: 8px; max-width: 320px; } .filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    """#
}
