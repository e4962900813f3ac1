extension StationTemplates {
    /// The kiosk: one self-contained document (its style and script are partials, inlined
    /// when rendered), Chinese first with English on a toggle (KioskPage).
    static let kiosk = #"""
    <!DOCTYPE html>
    <html lang="zh-CN">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{stationName}} · 驿站</title>
    <style>
    {{> kiosk-stylesheet}}
    </style>
    </head>
    <body>
    <header>
      <h1 id="name">{{stationName}}</h1>
      <div class="clock" id="clock" aria-label="时间"></div>
      <button id="lang" type="button" aria-label="English / 中文">English</button>
    </header>
    <main>
      <section id="occupancy" class="panel" aria-labelledby="occLabel">
        <div class="label" id="occLabel" data-zh="在站人数" data-en="People inside">在站人数</div>
        <div class="count" id="count" aria-live="polite">–</div>
        <div id="full" data-zh="已满员" data-en="Full">已满员</div>
        <div id="closedNow" data-zh="现在不开放" data-en="Closed now">现在不开放</div>
        <div id="hours"></div>
        <div id="notices" role="status" aria-live="polite"></div>
        <div id="onward" hidden>
          <div class="label" id="onwardLabel" data-zh="附近有空位的驿站" data-en="Nearby stations with room">附近有空位的驿站</div>
          <ol id="onwardList" aria-labelledby="onwardLabel"></ol>
        </div>
      </section>
      <section id="amenities" class="panel" aria-labelledby="amenLabel">
        <h2 id="amenLabel" data-zh="设施" data-en="Amenities">设施</h2>
        <div class="grid" id="grid"></div>
      </section>
    </main>
    <footer>
      <button id="report" type="button" data-zh="设施报修" data-en="Report a problem">设施报修</button>
      <div id="offline" role="status" data-zh="暂未连接中心，记录不会丢失" data-en="Not connected to the office; nothing is lost">暂未连接中心，记录不会丢失</div>
    </footer>
    <div id="overlay" role="status" aria-live="assertive">
      <div id="message"></div>
      <div id="rating">
        <div class="q" data-zh="本次休息满意吗？" data-en="How was your rest?">本次休息满意吗？</div>
        <div class="stars" id="stars"></div>
      </div>
    </div>
    <div id="dialog" role="dialog" aria-modal="true" aria-labelledby="dialogTitle">
      <h2 id="dialogTitle" data-zh="哪个设施有问题？" data-en="Which amenity has a problem?">哪个设施有问题？</h2>
      <div class="choices" id="choices"></div>
      <div id="thanks" role="status" data-zh="已收到，谢谢！" data-en="Reported. Thank you!">已收到，谢谢！</div>
      <button class="cancel" id="cancel" type="button" data-zh="返回" data-en="Back">返回</button>
    </div>
    <script>
    {{> kiosk-script}}
    </script>
    </body>
    </html>
    """#
}
