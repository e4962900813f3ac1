import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanSimulator
#if canImport(Glibc)
import Glibc
#endif

// MARK: the collector with its stations and users

final class SoakWorld: @unchecked Sendable {
    static let busyID = "soak-busy"
    static let busyToken = "yzs_soak_busy"
    static func token(_ i: Int) -> String { "yzs_soak_\(i)" }
    /// A 32 × 32 grid around Shenjiamen, about 330 m apart: the 15-minute circle finds a few.
    static func position(_ i: Int) -> (Double, Double) { (29.93 + Double(i / 32) * 0.003, 122.28 + Double(i % 32) * 0.0035) }

    let dir: String
    let stations: Int
    let collector: CollectorBench.Collector
    let officeToken: String

    init(binDir: String, dir: String, stations: Int, password: String) async throws {
        self.dir = dir
        self.stations = stations
        let path = dir + "/collector.db"
        // The stations straight into the database (as the heartbeat bench does); the office user as an operator adds one.
        let store = try SQLiteCollectorStore(path: path)
        try await store.close()
        let pool = try DatabasePool(path: path)
        try await pool.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO stations(id, name, district, capacity, latitude, longitude, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for i in 0..<stations {
                let (lat, lon) = Self.position(i)
                try insert.execute(arguments: ["soak-\(i)", "站\(i)", "district-\(i / 50)", 12, lat, lon, Tokens.hash(Self.token(i))])
            }
            try insert.execute(arguments: [Self.busyID, "繁忙站", "busy", 40, 29.9, 122.2, Tokens.hash(Self.busyToken)])
        }
        try pool.close()
        FileManager.default.createFile(atPath: dir + "/admin.toml", contents: Data("""
            [storage]
            url = "sqlite://\(path)"
            """.utf8))
        let token = try CollectorBench.addOfficeUser(binDir: binDir, config: dir + "/admin.toml", name: "office", password: password)
        officeToken = token
        collector = try await CollectorBench.Collector(binDir: binDir, dir: dir, storage: "sqlite://\(path)")
    }
}
