import YizhanWeb

/// The dashboard's page templates (Swift string constants compiled into the collector),
/// registered by name and parsed once when the router is built. Each page's folder holds
/// its template and its view model; every page shares one layout and one stylesheet.
enum OfficeTemplates {}

enum OfficePages {
    static let renderer = PageRenderer.compile([
        "office-layout": OfficeTemplates.layout,
        "office-stylesheet": OfficeTemplates.stylesheet,
        "office-period": OfficeTemplates.period,
        "office-headlines": OfficeTemplates.headlines,
        "office-alerts": OfficeTemplates.alerts,
        OfficeLoginPage.template: OfficeTemplates.login,
        OfficeRegionPage.template: OfficeTemplates.region,
        OfficeStationPage.template: OfficeTemplates.station,
        OfficeMessagePage.template: OfficeTemplates.message,
        OfficeAuditPage.template: OfficeTemplates.audit,
        "office-out-of-sync": OfficeTemplates.outOfSync,
        "office-station-sync": OfficeTemplates.stationSync,
        FindPage.template: OfficeTemplates.find,
        "find-station": OfficeTemplates.findStation,
    ])
}
