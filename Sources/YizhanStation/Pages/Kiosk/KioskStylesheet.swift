extension StationTemplates {
    /// The kiosk's stylesheet: large type and high contrast for reading from two metres,
    /// portrait and landscape at 1080p.
    static let kioskStylesheet = #"""
    :root { --bg:#0a0f14; --panel:#16212b; --text:#ffffff; --muted:#c9d4de; --ok:#3ddc84; --warn:#ffc845; --bad:#ff6b6b; --off:#9aa7b2; --accent:#ffd84d; }
    * { box-sizing:border-box; }
    html, body { margin:0; height:100%; background:var(--bg); color:var(--text);
      font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",sans-serif; overflow:hidden; }
    body { display:grid; grid-template-rows:auto 1fr auto; gap:2vmin; padding:3vmin; }
    header { display:flex; align-items:center; justify-content:space-between; gap:2vmin; min-width:0; }
    h1 { font-size:5vmin; margin:0; line-height:1.15; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; min-width:0; }
    .clock { font-size:5vmin; font-variant-numeric:tabular-nums; color:var(--muted); white-space:nowrap; }
    button { font:inherit; color:var(--text); background:var(--panel); border:0.4vmin solid var(--muted); border-radius:2vmin; cursor:pointer; }
    button:focus-visible { outline:0.6vmin solid var(--accent); outline-offset:0.4vmin; }
    #lang { font-size:3.4vmin; padding:1vmin 2.4vmin; white-space:nowrap; }
    main { display:grid; gap:3vmin; min-height:0; grid-template-columns:1fr; grid-template-rows:auto 1fr; }
    @media (orientation:landscape) { main { grid-template-columns:minmax(0,2fr) minmax(0,3fr); grid-template-rows:1fr; } }
    .panel { background:var(--panel); border-radius:3vmin; padding:3vmin; min-height:0; min-width:0; }
    #occupancy { display:flex; flex-direction:column; align-items:center; justify-content:center; text-align:center; gap:1.5vmin; }
    .label { font-size:4vmin; color:var(--muted); }
    .count { font-size:20vmin; font-weight:700; line-height:1; font-variant-numeric:tabular-nums; }
    .count small { font-size:9vmin; color:var(--muted); font-weight:400; }
    #full { display:none; font-size:7vmin; font-weight:700; color:#000; background:var(--bad); padding:1vmin 4vmin; border-radius:2vmin; }
    body.full #full { display:block; }
    #hours { font-size:3.6vmin; color:var(--muted); }
    #notices .notice { margin:1vmin 0 0; font-size:3.4vmin; font-weight:700; color:#000; background:var(--warn); padding:0.8vmin 2vmin; border-radius:1.4vmin; overflow-wrap:anywhere; }
    #closedNow { display:none; font-size:4.5vmin; color:var(--warn); font-weight:700; }
    body.closed #closedNow { display:block; }
    #amenities h2 { font-size:4vmin; margin:0 0 2vmin; color:var(--muted); font-weight:400; }
    .grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(31vmin,1fr)); gap:2vmin; }
    .tile { display:flex; align-items:center; gap:1.6vmin; padding:1.6vmin; border-radius:2vmin; background:#0f1820; border:0.4vmin solid transparent; min-width:0; }
    .tile svg { width:7vmin; height:7vmin; flex:none; stroke:var(--text); fill:none; stroke-width:1.8; stroke-linecap:round; stroke-linejoin:round; }
    .tile .n { font-size:3.3vmin; line-height:1.2; overflow-wrap:break-word; hyphens:auto; }
    .tile .s { font-size:2.8vmin; font-weight:700; }
    .ok .s { color:var(--ok); } .degraded { border-color:var(--warn); } .degraded .s { color:var(--warn); }
    .out_of_order { border-color:var(--bad); } .out_of_order .s { color:var(--bad); } .closed .s { color:var(--off); }
    footer { display:flex; align-items:center; justify-content:space-between; gap:2vmin; }
    #report { font-size:4.2vmin; padding:2vmin 4vmin; border-color:var(--accent); white-space:nowrap; }
    #offline { visibility:hidden; font-size:3vmin; color:var(--off); }
    body.offline #offline { visibility:visible; }
    #overlay { position:fixed; inset:0; display:none; align-items:center; justify-content:center; flex-direction:column; gap:4vmin;
      background:rgba(0,0,0,0.92); text-align:center; padding:5vmin; }
    #overlay.show { display:flex; }
    #message { font-size:10vmin; font-weight:700; line-height:1.2; }
    #message.check_in { color:var(--ok); } #message.check_out, #message.auto_check_out { color:var(--text); }
    #message.rejected_full, #message.bad_read, #message.outside_hours { color:var(--bad); }
    #rating { display:none; flex-direction:column; gap:2vmin; align-items:center; }
    #rating.show { display:flex; }
    #rating .q { font-size:4.5vmin; color:var(--muted); }
    #rating .stars { display:flex; gap:2vmin; }
    #rating button { width:14vmin; height:14vmin; font-size:6vmin; font-weight:700; }
    #dialog { position:fixed; inset:0; display:none; background:rgba(0,0,0,0.95); padding:5vmin; flex-direction:column; gap:3vmin; }
    #dialog.show { display:flex; }
    #dialog h2 { font-size:5.5vmin; margin:0; }
    #dialog .choices { display:grid; grid-template-columns:repeat(auto-fill,minmax(30vmin,1fr)); gap:2vmin; overflow:auto; }
    #dialog .choices button { font-size:4vmin; padding:3vmin; text-align:left; }
    #dialog .cancel { align-self:flex-start; font-size:4vmin; padding:2vmin 5vmin; }
    #thanks { font-size:6vmin; color:var(--ok); display:none; }
    #onward[hidden] { display:none; }
    #onward ol { list-style:none; margin:0; padding:0; font-size:3.6vmin; }
    #onward li { padding:1vmin 0; border-top:1px solid var(--muted); }
    #onward .n { font-weight:700; } #onward .w { color:var(--ok); } #onward .a { color:var(--muted); font-size:3vmin; }
    """#
}
