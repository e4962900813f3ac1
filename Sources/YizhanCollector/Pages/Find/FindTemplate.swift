extension OfficeTemplates {
    /// `/find` (FindPage): one small page for a cheap phone on a slow link: no images, no
    /// web fonts, no requests to anyone else; a form that works without JavaScript, and a
    /// script (`/find.js`) that only adds the "use my position" button.
    static let find = #"""
    <!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer"><title>附近驿站 · Nearby stations</title>
    <style>
    body{font:16px/1.4 system-ui,sans-serif;margin:0;color:#111;background:#fff}header,main,footer{padding:0 12px}
    h1{font-size:1.25em;margin:.6em 0}form{display:flex;flex-wrap:wrap;gap:6px;margin-bottom:8px}select,button{font-size:1em;padding:6px}
    ol{list-style:none;padding:0;margin:0}li{border-top:1px solid #ccc;padding:8px 0}.name{font-weight:bold}.seats{color:#064;font-weight:bold}
    .full{color:#a00}.muted{color:#555;font-size:.9em}nav a{display:inline-block;margin:4px 8px 0 0;padding:4px 8px;border:1px solid #069;border-radius:4px;color:#069;text-decoration:none}
    .msg{background:#fee;padding:6px}
    </style></head><body>
    <header><h1>附近有空位的驿站 <span class="muted">Nearby open stations with room</span></h1></header>
    <main>
    {{#message}}<p class="msg" role="alert">{{message}}</p>{{/message}}
    <form method="get" action="/find">
    {{#latitude}}<input type="hidden" name="lat" value="{{latitude}}">{{/latitude}}{{#longitude}}<input type="hidden" name="lon" value="{{longitude}}">{{/longitude}}
    <label>设施 Amenity <select name="amenity">{{#amenities}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/amenities}}</select></label>
    {{^latitude}}<label>地区 Region <select name="region">{{#regions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/regions}}</select></label>{{/latitude}}
    <button type="submit">查找 Find</button>
    <button type="button" id="locate" hidden>使用我的位置 Use my position</button>
    </form>
    <p id="locate-status" class="muted" aria-live="polite">{{^asked}}请允许使用位置，或选择地区。位置只用于这次查找，不会被保存。 Allow your position, or choose a region; it is used for this search only and never stored.{{/asked}}</p>
    {{#asked}}
    {{#nothing}}<p>附近没有开放且有空位的驿站。 No open station with room nearby.</p>{{/nothing}}
    <ol id="stations">{{#available}}{{> find-station}}{{/available}}</ol>
    {{#hasOthers}}<h2 class="muted">已满或设施不可用 Full, or the amenity is not working</h2>
    <ol id="others">{{#others}}{{> find-station}}{{/others}}</ol>{{/hasOthers}}
    {{/asked}}
    </main>
    <footer class="muted"><p>步行时间按直线距离 × 1.3、每分钟 80 米估算。 Walk minutes: straight line × 1.3 at 80 m a minute.
    空位为实时数据。 Free seats are live. <a href="/find">重新开始 Start again</a></p></footer>
    <script src="/find.js"></script>
    </body></html>
    """#

    /// One station in the finder's list.
    static let findStation = #"""
    <li><div class="name">{{name}}</div>
    <div>{{#hasRoom}}<span class="seats">空位 {{freeSeats}}</span> / {{capacity}} <span class="muted">free seats</span>{{/hasRoom}}{{^hasRoom}}<span class="full">已满 Full</span>{{/hasRoom}}
    {{#walkMinutes}} · 步行约 {{walkMinutes}} 分钟 <span class="muted">about {{walkMinutes}} min on foot ({{distance}})</span>{{/walkMinutes}}</div>
    {{#amenity}}<div class="{{^amenityWorking}}full{{/amenityWorking}}">{{amenity}}</div>{{/amenity}}
    {{#address}}<div class="muted">{{address}}</div>{{/address}}
    {{#hours}}<div class="muted">开放时间 Hours {{hours}}</div>{{/hours}}
    <nav><a href="{{geoLink}}">导航 Navigate</a><a href="{{amapLink}}">高德 Amap</a><a href="{{baiduLink}}">百度 Baidu</a></nav></li>
    """#

    /// `/find.js`: asks for the position only when the worker presses the button, then
    /// reloads the page with it in the URL; nothing is sent anywhere else.
    static let findScript = #"""
    (function () {
      var button = document.getElementById('locate'), status = document.getElementById('locate-status');
      if (!button || !navigator.geolocation) return;
      button.hidden = false;
      button.addEventListener('click', function () {
        status.textContent = '正在定位… Finding your position…';
        navigator.geolocation.getCurrentPosition(function (p) {
          var q = new URLSearchParams(location.search);
          q.set('lat', p.coords.latitude.toFixed(5)); q.set('lon', p.coords.longitude.toFixed(5)); q.delete('region');
          location.search = q.toString();
        }, function () {
          status.textContent = '无法获取位置，请选择地区。 Could not get your position; please choose a region.';
        }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 });
      });
    })();
    """#
}
