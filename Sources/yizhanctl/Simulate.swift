import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import YizhanCore
import YizhanSimulator
import YizhanStation

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a simulated card reader that speaks the real protocol.",
        discussion: """
            idcard, rdm6300 and line create a pseudo-terminal and link it at --link (put that path in the reader's device = ...); hid creates a uinput keyboard where /dev/uinput exists, otherwise a FIFO of input_event records at --link. With --config and --reader, the link is that reader's configured device.

            Commands come from --script (a file, - for stdin), --commands ("swipe 110105...; wait 2"), or interactively from stdin:

            \(SimulationCommand.help)
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case idcard, rdm6300, line, hid }

    @ParentCommand var root: YizhanCTL
    @Argument(help: "idcard, rdm6300, line or hid") var kind: Kind
    @Option(help: ArgumentHelp("Where to link the device.", valueName: "path")) var link: String?
    @Option(help: ArgumentHelp("Station configuration, to take the link from --reader.", valueName: "path")) var config: String?
    @Option(help: "The reader of --config whose device path to use.") var reader: String?
    @Option(help: ArgumentHelp("Script file (- for stdin).", valueName: "path")) var script: String?
    @Option(help: "Commands separated by ';'.") var commands: String?
    @Flag(help: "Keep the reader plugged in after the script ends (until SIGINT/SIGTERM).") var stay = false
    @Flag(help: "Use a FIFO even where /dev/uinput exists (hid).") var fifo = false

    func run() async throws {
        try await reportingErrors {
            let path = try devicePath()
            let device: any SimulatedReader
            do {
                switch kind {
                case .idcard: device = try SimulatedIDCardReader(link: path)
                case .rdm6300: device = try SimulatedRDM6300Reader(link: path)
                case .line: device = try SimulatedLineReader(link: path)
                case .hid: device = try SimulatedHIDReader(link: path, preferUinput: !fifo)
                }
            } catch {
                throw CLIError("\(error)")
            }
            defer { device.close() }
            signal(SIGPIPE, SIG_IGN)
            let terminate = TerminationSignals()
            FileHandle.standardError.write(Data("simulated \(kind.rawValue) reader at \(device.devicePath)\n".utf8))
            let runner = SimulationRunner(reader: device, numericCards: kind != .idcard) { line in
                FileHandle.standardError.write(Data("sim: \(line)\n".utf8))
            }
            let lines: [String]?
            if let commands {
                lines = commands.split(separator: ";").map(String.init)
            } else if let script, script != "-" {
                guard let text = try? String(contentsOfFile: script, encoding: .utf8) else { throw CLIError("cannot read script \(script)") }
                lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            } else {
                lines = nil
            }
            let work = Task {
                if let lines {
                    for (i, line) in lines.enumerated() {
                        do {
                            guard let command = try SimulationCommand.parse(line) else { continue }
                            if await !runner.run(command) { return }
                        } catch {
                            FileHandle.standardError.write(Data("line \(i + 1): \(error)\n".utf8))
                            return
                        }
                        if Task.isCancelled { return }
                    }
                    if stay { while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) } }
                } else {
                    let interactive = isatty(0) != 0
                    if interactive { FileHandle.standardError.write(Data("type commands (help for the list, quit to stop)\n> ".utf8)) }
                    while let line = readLine() {
                        if line.trimmingCharacters(in: .whitespaces) == "help" {
                            FileHandle.standardError.write(Data((SimulationCommand.help + "\n").utf8))
                        } else {
                            do {
                                if let command = try SimulationCommand.parse(line), await !runner.run(command) { return }
                            } catch {
                                FileHandle.standardError.write(Data("\(error)\n".utf8))
                            }
                        }
                        if interactive { FileHandle.standardError.write(Data("> ".utf8)) }
                    }
                    if stay { while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) } }
                }
            }
            await terminate.race(with: work, onSignal: {
                // readLine() cannot be cancelled: unplug and leave now.
                device.close()
                FileHandle.standardError.write(Data("simulated reader unplugged\n".utf8))
                Glibc.exit(0)
            })
        }
    }

    func devicePath() throws -> String {
        if let link { return link }
        guard let config = config ?? root.config, let reader else {
            if kind == .hid { throw CLIError("hid needs --link (the FIFO path) or --config with --reader") }
            return "/tmp/yizhan-sim-\(kind.rawValue)"
        }
        let cfg: StationConfiguration
        do { cfg = try StationConfiguration.load(path: config) } catch { throw CLIError("\(error)") }
        guard let r = cfg.readers.first(where: { $0.name == reader }) else { throw CLIError("\(config) has no reader named \(reader)") }
        guard case .path(let p) = r.match else { throw CLIError("reader \(reader) is matched by udev (\(r.match)); pass --link") }
        return p
    }
}

/// Ends the simulation on SIGINT/SIGTERM so the link is removed (the daemon then sees an unplug).
final class TerminationSignals: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Void>

    init() {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        self.stream = stream
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { continuation.yield() }
            s.activate()
            return s
        }
    }

    /// Waits for `work` to finish; on SIGINT/SIGTERM runs `onSignal` instead.
    func race(with work: Task<Void, Never>, onSignal: @escaping @Sendable () -> Void) async {
        let stream = self.stream
        let signalled = Task { for await _ in stream { onSignal(); return } }
        await work.value
        signalled.cancel()
    }
}
