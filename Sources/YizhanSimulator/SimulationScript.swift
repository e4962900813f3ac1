import Foundation
import YizhanCore

/// Commands for a simulated reader, one per line (`#` starts a comment):
///
///     present <number> [name]   put a card on the reader
///     remove                    take it away
///     swipe <number> [name]     present, hold briefly, remove
///     wait <seconds>            pause (fractions allowed)
///     garbage <hex> ...         raw bytes on the line (serial) / stray keys (hid)
///     corrupt                   the next frame goes out damaged
///     random <count> [seconds]  swipes by a pool of simulated workers, every <seconds>
///     quit                      stop
public enum SimulationCommand: Hashable, Sendable {
    case present(number: String, name: String)
    case remove
    case swipe(number: String, name: String)
    case wait(Duration)
    case garbage([UInt8])
    case corrupt
    case random(count: Int, interval: Duration)
    case quit

    public static let help = """
        present <number> [name]   put a card on the reader
        remove                    take it away
        swipe <number> [name]     present, hold briefly, remove
        wait <seconds>            pause (fractions allowed)
        garbage <hex> ...         raw bytes on the line (serial) / stray keys (hid)
        corrupt                   the next frame goes out damaged
        random <count> [seconds]  swipes by a pool of simulated workers
        quit                      stop
        """

    /// Parses one line; nil for blank lines and comments.
    public static func parse(_ line: String) throws(SimulatorError) -> SimulationCommand? {
        let words = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
            .split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) ?? []
        guard let verb = words.first?.lowercased() else { return nil }
        let args = Array(words.dropFirst())
        func seconds(_ s: String) throws(SimulatorError) -> Duration {
            guard let v = Double(s), v >= 0, v < 86_400 else { throw .usage("expected seconds, got \"\(s)\"") }
            return .milliseconds(Int64(v * 1000))
        }
        switch verb {
        case "present", "swipe":
            guard let number = args.first else { throw .usage("\(verb) needs a card number") }
            let name = args.count > 1 ? args[1...].joined(separator: " ") : "测试"
            return verb == "present" ? .present(number: number, name: name) : .swipe(number: number, name: name)
        case "remove": return .remove
        case "wait":
            guard args.count == 1 else { throw .usage("wait needs seconds") }
            return .wait(try seconds(args[0]))
        case "garbage":
            var bytes: [UInt8] = []
            for a in args {
                guard let b = UInt8(a, radix: 16) else { throw .usage("garbage takes hex bytes, got \"\(a)\"") }
                bytes.append(b)
            }
            return .garbage(bytes.isEmpty ? [0x13, 0x37, 0xAA, 0x00] : bytes)
        case "corrupt": return .corrupt
        case "random":
            guard let count = args.first.flatMap(Int.init), count > 0 else { throw .usage("random needs a count") }
            return .random(count: count, interval: args.count > 1 ? try seconds(args[1]) : .seconds(3))
        case "quit", "exit": return .quit
        default: throw .usage("unknown command \"\(verb)\"; commands:\n\(help)")
        }
    }
}

/// Runs commands against a simulated reader.
public struct SimulationRunner: Sendable {
    public let reader: any SimulatedReader
    public let numericCards: Bool
    public let log: @Sendable (String) -> Void

    public init(reader: any SimulatedReader, numericCards: Bool, log: @escaping @Sendable (String) -> Void) {
        self.reader = reader; self.numericCards = numericCards; self.log = log
    }

    /// Returns false after `quit`.
    public func run(_ command: SimulationCommand) async -> Bool {
        switch command {
        case .present(let number, let name):
            reader.present(number: number, name: name)
            log("presented \(NormalizedCardNumber(number).hint)")
        case .remove:
            reader.remove()
            log("removed")
        case .swipe(let number, let name):
            let delivered = await reader.swipe(number: number, name: name)
            log(delivered ? "swiped \(NormalizedCardNumber(number).hint)"
                          : "swiped \(NormalizedCardNumber(number).hint), but the reader never read it")
        case .wait(let d):
            try? await Task.sleep(for: d)
        case .garbage(let bytes):
            reader.garbage(bytes)
            log("sent \(bytes.count) byte(s) of garbage")
        case .corrupt:
            reader.corruptNext()
        case .random(let count, let interval):
            var generator = SystemRandomNumberGenerator()
            let pool = SimulatedWorkers.pool(size: 24, numeric: numericCards)
            for i in 0..<count {
                if Task.isCancelled { break }
                let worker = pool[Int.random(in: 0..<pool.count, using: &generator)]
                _ = await run(.swipe(number: worker.number, name: worker.name))
                if i + 1 < count {
                    let jitter = Double.random(in: 0.5...1.5, using: &generator)
                    try? await Task.sleep(for: .milliseconds(Int64(Double(interval.milliseconds) * jitter)))
                }
            }
        case .quit:
            return false
        }
        return true
    }
}

/// Made-up workers with valid ID numbers (correct check digits) for demos and tests.
public enum SimulatedWorkers {
    static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高")
    static let given = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞"]

    /// A valid resident ID number from a seed.
    public static func idNumber(seed: Int) -> String {
        let region = ["330903", "330902", "110105", "440304", "510107"][seed % 5]
        let year = 1965 + (seed * 7) % 40
        let month = 1 + (seed * 5) % 12
        let day = 1 + (seed * 11) % 28
        let serial = 100 + (seed * 37) % 899
        let digits = region + String(year) + (month < 10 ? "0" : "") + String(month) + (day < 10 ? "0" : "") + String(day) + String(serial)
        return digits + String(ResidentIDNumber.checkCharacter(forDigits: Array(digits))!)
    }

    public static func pool(size: Int, numeric: Bool) -> [(number: String, name: String)] {
        (0..<size).map { i in
            let name = String(surnames[i % surnames.count]) + given[(i * 3) % given.count]
            return (numeric ? String(1_000_000 + i * 7919) : idNumber(seed: i), name)
        }
    }
}
