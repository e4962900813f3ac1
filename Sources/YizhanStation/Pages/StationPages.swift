import YizhanWeb

/// The station's page templates (Swift string constants, so the daemon stays one static
/// file), registered by name and parsed once when the HTTP server is built. Each page's
/// folder holds its template and its view model; the manager pages share one layout and
/// one stylesheet, the kiosk is a page of its own.
enum StationTemplates {}

enum StationPages {
    static let renderer = PageRenderer.compile([
        "manager-layout": StationTemplates.managerLayout,
        "manager-stylesheet": StationTemplates.managerStylesheet,
        ManagerLoginPage.template: StationTemplates.managerLogin,
        ManagerOverviewPage.template: StationTemplates.managerOverview,
        VisitLogPage.template: StationTemplates.visitLog,
        AmenityHistoryPage.template: StationTemplates.amenityHistory,
        ManagerMessagePage.template: StationTemplates.managerMessage,
        KioskPage.template: StationTemplates.kiosk,
        "kiosk-stylesheet": StationTemplates.kioskStylesheet,
        "kiosk-script": StationTemplates.kioskScript,
    ])
}
