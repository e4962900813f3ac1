extension StationTemplates {
    /// The kiosk's script: the live state over Server-Sent Events (/kiosk/events), a swipe's
    /// outcome, the language toggle, reporting a problem and the one-tap rating. Station
    /// values reach the page as JSON and are set as text or escaped with `esc`.
    static let kioskScript = #"""
    "use strict";
    const ICONS = {
      air_conditioner: '<rect x="2" y="5" width="20" height="8" rx="2"/><path d="M5 10h14M7 16v3M12 16v4M17 16v3"/>',
      heater: '<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M8 8v8M12 8v8M16 8v8"/>',
      microwave: '<rect x="2" y="5" width="20" height="14" rx="2"/><rect x="5" y="8" width="10" height="8"/><path d="M18 9v.01M18 12v.01M18 15v.01"/>',
      water_dispenser: '<path d="M9 2h6v5H9zM7 7h10v15H7z"/><path d="M12 11c1.5 2 1.5 3-0 4c-1.5-1-1.5-2 0-4z"/>',
      fridge: '<rect x="5" y="2" width="14" height="20" rx="2"/><path d="M5 10h14M8 5v2M8 13v3"/>',
      seating: '<path d="M6 3v10h12M6 13v8M18 13v8M6 17h12"/>',
      phone_charging: '<rect x="6" y="2" width="12" height="20" rx="2"/><path d="M13 7l-3 5h4l-3 5"/>',
      toilet: '<circle cx="7" cy="4" r="2"/><circle cx="17" cy="4" r="2"/><path d="M5 8h4v6H8v7H6v-7H5zM15 8h4l2 8h-3v5h-2v-5h-3z"/>',
      bookshelf: '<path d="M3 3v18h18M7 17V7M11 17V5M15 17l-2-9 3-1 3 10"/>',
      first_aid: '<rect x="3" y="6" width="18" height="14" rx="2"/><path d="M9 6V4h6v2M12 10v6M9 13h6"/>',
      nursing_room: '<path d="M10 2h4v3h-4zM9 5h6l1 4v11a2 2 0 0 1-2 2h-4a2 2 0 0 1-2-2V9z"/><path d="M8 13h8"/>',
      umbrella_loan: '<path d="M2 12a10 10 0 0 1 20 0z"/><path d="M12 12v7a2 2 0 0 1-4 0"/>',
      wifi: '<path d="M2 9a15 15 0 0 1 20 0M5 13a10 10 0 0 1 14 0M8.5 16.5a5 5 0 0 1 7 0"/><circle cx="12" cy="20" r="1"/>',
      tool_kit: '<path d="M14 7a4 4 0 0 0 5 5l-9 9-3-3 9-9a4 4 0 0 1-2-2z"/>',
      medicine: '<rect x="3" y="9" width="18" height="6" rx="3" transform="rotate(-45 12 12)"/><path d="M9.5 9.5l5 5"/>',
      other: '<circle cx="12" cy="12" r="9"/><path d="M12 8v5M12 16v.01"/>'
    };
    const STATUS = { ok:["正常","OK"], degraded:["部分可用","Limited"], out_of_order:["故障","Out of order"], closed:["暂停","Closed"] };
    const MESSAGES = {
      check_in: ["欢迎{name} · 已签到", "Welcome{name} · checked in"],
      check_out: ["再见{name} · 已签退", "Goodbye{name} · checked out"],
      auto_check_out: ["已签退", "Checked out"],
      rejected_full: ["已满员，请稍后再来", "Full, please come back later"],
      bad_read: ["读卡失败，请重试", "Card not read, please try again"],
      outside_hours: ["现在不开放", "Closed now"],
      duplicate: ["已记录", "Already recorded"]
    };
    const asked = new URLSearchParams(location.search).get("lang");
    let lang = (asked === "en" || asked === "zh") ? asked : (localStorage.getItem("yizhan-kiosk-lang") || "zh");
    let state = null, overlayTimer = null, lostTimer = null, lost = false;
    const $ = (id) => document.getElementById(id);
    const t = (pair) => lang === "zh" ? pair[0] : pair[1];
    function esc(s) { return String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c])); }
    function applyLang() {
      document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
      $("lang").textContent = lang === "zh" ? "English" : "中文";
      document.querySelectorAll("[data-zh]").forEach(el => { el.textContent = el.dataset[lang]; });
      render();
    }
    function render() {
      if (!state) return;
      $("name").textContent = state.station_name;
      document.title = state.station_name + " · 驿站";
      $("count").innerHTML = state.occupancy + " <small>/ " + state.capacity + "</small>";
      $("count").setAttribute("aria-label", t(["在站 ", ""]) + state.occupancy + t([" 人，共 ", " of "]) + state.capacity + t([" 位", " inside"]));
      document.body.classList.toggle("full", state.full);
      document.body.classList.toggle("closed", !state.open);
      document.body.classList.toggle("offline", !state.uplink_ok || lost);
      $("hours").textContent = t(["开放时间 ", "Open "]) + state.hours;
      // The office's notices: English when asked for and given, Chinese otherwise.
      $("notices").innerHTML = (state.notices || []).map(n =>
        '<p class="notice" data-notice="' + esc(n.id) + '">' + esc(lang === "en" && n.en ? n.en : n.zh) + '</p>').join("");
      $("grid").innerHTML = state.amenities.map(a =>
        '<div class="tile ' + a.status + '"><svg viewBox="0 0 24 24" aria-hidden="true">' + (ICONS[a.kind] || ICONS.other) + '</svg>' +
        '<div><div class="n">' + esc(lang === "zh" ? a.name_zh : a.name_en) + '</div><div class="s">' + t(STATUS[a.status]) + '</div></div></div>').join("");
      $("choices").innerHTML = state.amenities.map(a =>
        '<button type="button" data-id="' + esc(a.id) + '">' + esc(lang === "zh" ? a.name_zh : a.name_en) + '</button>').join("");
      renderOnward();
      requestAnimationFrame(checkLayout);
    }
    // Full or closing soon: the nearest open stations with room (from the collector).
    function renderOnward() {
      const list = state.onward || [];
      $("onward").hidden = list.length === 0;
      $("onwardList").innerHTML = list.map(o =>
        '<li><span class="n">' + esc(o.name) + '</span> <span class="w">' + t(["步行约 " + o.walk_minutes + " 分钟", "about " + o.walk_minutes + " min walk"]) +
        ' · ' + t(["空位 " + o.free_seats, o.free_seats + " free"]) + '</span>' + (o.address ? '<div class="a">' + esc(o.address) + '</div>' : '') + '</li>').join("");
    }
    // Layout self-check, read by the browser tests: what sticks out of the screen or its box.
    function checkLayout() {
      const w = window.innerWidth, h = window.innerHeight, bad = [];
      document.querySelectorAll("header *, main *, footer *").forEach(el => {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) return;
        if (r.right > w + 1 || r.bottom > h + 1 || r.left < -1 || r.top < -1 || (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow === "visible"))
          bad.push(el.id || el.className || el.tagName);
      });
      document.body.dataset.overflow = bad.length ? bad.slice(0, 5).join(",") : "none";
    }
    function tick() {
      const d = new Date(), p = (n) => String(n).padStart(2, "0");
      $("clock").textContent = p(d.getHours()) + ":" + p(d.getMinutes());
    }
    function showSwipe(s) {
      const m = MESSAGES[s.kind]; if (!m) return;
      const name = s.name ? (lang === "zh" ? " " + s.name : " " + s.name) : "";
      $("message").textContent = t(m).replace("{name}", name);
      $("message").className = s.kind;
      const rate = s.rating_seconds && s.kind === "check_out";
      $("rating").classList.toggle("show", !!rate);
      $("overlay").classList.add("show");
      clearTimeout(overlayTimer);
      overlayTimer = setTimeout(() => $("overlay").classList.remove("show"), rate ? Math.min(15, s.rating_seconds) * 1000 : 4000);
    }
    async function post(path, body) {
      const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      return r.ok;
    }
    $("stars").innerHTML = [1,2,3,4,5].map(n => '<button type="button" data-score="' + n + '" aria-label="' + n + '">' + n + '★</button>').join("");
    $("stars").addEventListener("click", async (e) => {
      const b = e.target.closest("button"); if (!b) return;
      await post("/kiosk/rating", { score: Number(b.dataset.score) });
      $("rating").classList.remove("show");
      clearTimeout(overlayTimer);
      overlayTimer = setTimeout(() => $("overlay").classList.remove("show"), 1500);
    });
    $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("yizhan-kiosk-lang", lang); applyLang(); });
    $("report").addEventListener("click", () => { $("thanks").style.display = "none"; $("choices").style.display = ""; $("dialog").classList.add("show"); });
    $("cancel").addEventListener("click", () => $("dialog").classList.remove("show"));
    $("choices").addEventListener("click", async (e) => {
      const b = e.target.closest("button"); if (!b) return;
      const ok = await post("/kiosk/report", { amenity: b.dataset.id });
      if (ok) { $("choices").style.display = "none"; $("thanks").style.display = "block"; setTimeout(() => $("dialog").classList.remove("show"), 3000); }
    });
    function connect() {
      const es = new EventSource("/kiosk/events");
      es.addEventListener("state", (e) => { state = JSON.parse(e.data); clearTimeout(lostTimer); lost = false; render(); });
      es.addEventListener("swipe", (e) => showSwipe(JSON.parse(e.data)));
      // The browser reconnects by itself; only a break of several seconds shows the sign.
      es.onerror = () => { clearTimeout(lostTimer); lostTimer = setTimeout(() => { lost = true; render(); }, 6000); };
    }
    tick(); setInterval(tick, 1000);
    applyLang();
    connect();
    """#
}
