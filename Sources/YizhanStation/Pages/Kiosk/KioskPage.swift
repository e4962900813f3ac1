import YizhanWeb

/// The kiosk page: one HTML document with its CSS, script and icons inline, so it works
/// with no network and no external assets. The page carries only the station's name;
/// everything live comes from `/kiosk/state` and `/kiosk/events`.
struct KioskPage: PageModel, Sendable {
    static let template = "kiosk"

    var stationName: String

    static func html(stationName: String) -> String {
        StationPages.renderer.render(KioskPage(stationName: stationName))
    }
}
