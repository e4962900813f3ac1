import ArgumentParser
import Foundation
import HummingbirdBcrypt
import YizhanCollector
import YizhanCore
import YizhanWeb

struct UserCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [AddUser.self])
}

struct AddUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a user; reads the password from standard input, prints an API token alone on the last line.")
    @OptionGroup var options: ConfigOption
    @Option(help: "The login name (letters, digits, '_', '-', '.', '@').") var name: String
    @Option var role: String
    @Option(name: .customLong("station"), help: "A station a manager may see (repeatable).") var stations: [String] = []
    @Option(help: ArgumentHelp("An office user's region (they see its stations only); none: every station.", valueName: "path"))
    var region: String?

    func run() async throws {
        let c = try options.load()
        // A login name as the station's managers have: it is typed at the login form and
        // written into the audit log, so nothing that could forge a line or hide in one.
        guard AmenityEventDetail.isValidActor(Substring(name)) else {
            throw ValidationError("--name: 1 to 32 of letters, digits, '_', '-', '.', '@'")
        }
        guard let role = UserRole(rawValue: role) else { throw ValidationError("--role must be office or manager") }
        if role == .manager && stations.isEmpty { throw ValidationError("a manager needs at least one --station") }
        if role == .manager && region != nil { throw ValidationError("--region is for office users; a manager has --station") }
        let path = try region.map { text in
            guard let p = RegionPath(parsing: text) else { throw ValidationError("--region: up to 6 levels separated by /, each up to 64 characters") }
            return p
        }
        guard let password = readLine(strippingNewline: true) else {
            throw ValidationError("a password is expected on standard input")
        }
        do { try PasswordRules.checkNew(password) } catch { throw ValidationError("\(error)") }
        let token = Tokens.generate(prefix: "yzu_")
        let hash = Bcrypt.hash(password, cost: 12)
        try await withStore(c) { store in
            do {
                try await store.addUser(UserRecord(name: name, role: role, stations: stations, region: path?.isNation == true ? nil : path),
                                        passwordHash: hash, tokenHash: Tokens.hash(token))
            } catch let e as CollectorStoreError {
                throw failure("\(e)")
            }
        }
        print("user \(name) (\(role.rawValue)) added; API token:")
        print(token)
    }
}
