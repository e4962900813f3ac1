// swift-tools-version:6.1
// GRDB 7.10 requires tools 6.1 (see ../shared/NOTES.md).
import PackageDescription

// The version every executable reports (`--version`, the heartbeat, the station's start
// event, the uplink's User-Agent) and the Debian packages carry: this line is the one place.
// `make deb VERSION=x.y.z` (and any build) may override it with YIZHAN_VERSION.
let yizhanVersion = Context.environment["YIZHAN_VERSION"] ?? "0.1.0"

let package = Package(
    name: "yizhan",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "yizhan-station", targets: ["yizhan-station"]),
        .executable(name: "yizhanctl", targets: ["yizhanctl"]),
        .executable(name: "yizhan-collector", targets: ["yizhan-collector"]),
        .executable(name: "yizhan-bench", targets: ["yizhan-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Page templates (escaping by default), compiled into the binaries as string constants.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Tests only: the Chrome DevTools protocol runs over a WebSocket.
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
    ],
    targets: [
        // C declarations Swift's Glibc module hides or cannot import (pty, ioctl macros).
        .target(name: "CShims"),
        // libudev through pkg-config; `make deps` installs libudev-dev.
        .systemLibrary(
            name: "CUdev",
            pkgConfig: "libudev",
            providers: [.apt(["libudev-dev"])]
        ),
        // TOML configuration files with file:line errors, shared by the executables.
        .target(name: "YizhanTOML", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        // The pure core: reader codecs, visit state machine, privacy, wire types.
        // Imports no NIO, GRDB, Glibc or Foundation; time is always passed in.
        .target(
            name: "YizhanCore",
            dependencies: ["CYizhanVersion", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The version string as a C constant, so a build can set it without editing sources.
        .target(name: "CYizhanVersion", cSettings: [.define("YIZHAN_VERSION", to: "\"\(yizhanVersion)\"")]),
        // The web layer both servers share: request context, JSON errors, body limits and
        // timeouts, server limits, bearer tokens, forms, the login guard.
        .target(
            name: "YizhanWeb",
            dependencies: [
                "YizhanCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // The station daemon's adapters and services (serial, evdev, udev, SQLite, HTTP, systemd).
        .target(
            name: "YizhanStation",
            dependencies: [
                "YizhanCore", "YizhanTOML", "YizhanWeb", "CShims", "CUdev",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        // The central collector: ingest, live state, queries; storage behind CollectorStore.
        .target(
            name: "YizhanCollector",
            dependencies: [
                "YizhanCore", "YizhanTOML", "YizhanWeb",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "yizhan-collector",
            dependencies: [
                "YizhanCollector", "YizhanWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Simulated readers: pseudo-terminals (and uinput/FIFOs) that speak the real protocols.
        .target(name: "YizhanSimulator", dependencies: ["YizhanCore", "CShims"]),
        .executableTarget(
            name: "yizhan-station",
            dependencies: [
                "YizhanStation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "yizhanctl",
            dependencies: [
                "YizhanStation", "YizhanSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "yizhan-bench",
            dependencies: [
                "YizhanStation", "YizhanSimulator", "YizhanCollector", "YizhanTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What the tests and the benchmarks share: processes started and stopped, ports read
        // back, a notify socket, raw sockets for what HTTP clients will not send, a seeded
        // generator.
        .target(name: "YizhanTestSupport", path: "Tests/YizhanTestSupport"),
        .testTarget(name: "YizhanCoreTests", dependencies: ["YizhanCore", "YizhanTestSupport"]),
        .testTarget(
            name: "YizhanStationTests",
            dependencies: [
                "YizhanStation", "YizhanSimulator", "YizhanTestSupport",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "YizhanCollector", "YizhanTestSupport",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "YizhanCore", "YizhanSimulator", "YizhanCollector", "YizhanTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

// Fuzzing (docs/fuzzing.md). The targets are a plain library: `make test` runs every file of
// Fuzz/Corpus through them. The libFuzzer executable exists only when YIZHAN_FUZZ is set
// (`make fuzz`): it has no `main` of its own and links only with -sanitize=fuzzer.
package.targets += [
    .target(
        name: "YizhanFuzzTargets",
        dependencies: [
            "YizhanCore", "YizhanTOML", "YizhanWeb",
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "CompressNIO", package: "compress-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]
    ),
    // The corpora as regression tests, and the TOML corpus through the real station and
    // collector configuration loaders (too large a graph to instrument for fuzzing).
    .testTarget(name: "FuzzRegressionTests", dependencies: ["YizhanFuzzTargets", "YizhanStation", "YizhanCollector"]),
]
if Context.environment["YIZHAN_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "yizhan-fuzz", dependencies: ["YizhanFuzzTargets"], path: "Fuzz/Entry"))
}
