import ArgumentParser
import Foundation
import YizhanCore
import YizhanStation

struct Manager: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Logins for the manager pages (/manage).", subcommands: [ManagerAdd.self])
}

struct ManagerAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a manager or change their password; reads the password from standard input (8 to 72 bytes, no NUL).")
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Option(help: "The login name (letters, digits, '_', '-', '.', '@').") var name: String

    func run() async throws {
        try await reportingErrors {
            guard let password = readLine(strippingNewline: true) else {
                throw CLIError("a password is expected on standard input")
            }
            do { try PasswordRules.checkNew(password) } catch { throw CLIError("\(error)") }
            _ = try await StationClient(configuration: try options.load(root))
                .post("/api/v1/manager", json: ["name": name, "password": password], as: [String: String].self)
            print("manager \(name): password set; log in at /manage")
        }
    }
}

// MARK: checkout-all

struct CheckoutAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout-all",
        abstract: "Close the day: check out everyone still inside and mark the day closed.")
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Option(help: "table or json") var format: ObjectFormat = .table

    func run() async throws {
        try await reportingErrors {
            let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "yizhanctl"
            let result = try await StationClient(configuration: try options.load(root))
                .post("/api/v1/checkout-all", json: ["by": "yizhanctl (\(who))"], as: CloseDayResult.self)
            if format == .json { try printJSONLine(result); return }
            print("day closed: \(result.checkedOut) checked out, last seq \(result.lastSeq)")
        }
    }
}
