import Foundation
import Testing
import YizhanCore
import YizhanSimulator
@testable import YizhanStation

@Suite struct SerialPortTests {
    let dir = TemporaryDirectory()

    func collect(_ stream: DeviceStream, count: Int) async -> [UInt8] {
        var got: [UInt8] = []
        for await chunk in stream.chunks {
            if case .bytes(let b) = chunk { got += b }
            if got.count >= count { break }
        }
        return got
    }

    @Test func rawTermiosPassesEveryByteValueBothWays() async throws {
        let pty = try PseudoTerminal(link: dir.file("tty-1"))
        let port = try SerialPort.open(path: pty.devicePath, baud: 9600)
        defer { port.close(); pty.close() }
        var t = termios()
        #expect(tcgetattr(port.fd, &t) == 0)
        #expect(cfgetispeed(&t) == speed_t(B9600))
        #expect(t.c_lflag & tcflag_t(ICANON | ECHO | ISIG) == 0, "canonical mode, echo and signals off")
        #expect(t.c_iflag & tcflag_t(ICRNL | IXON) == 0, "no CR translation, no XON/XOFF")
        #expect(t.c_oflag & tcflag_t(OPOST) == 0)
        #expect(t.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8))
        #expect(t.c_cflag & tcflag_t(PARENB | CSTOPB) == 0)

        let all = (0...255).map(UInt8.init)
        pty.write(all)
        #expect(await collect(port, count: 256) == all)
        try port.write(all)
        var back: [UInt8] = []
        while back.count < 256, pty.waitReadable(timeoutMilliseconds: 2000) { back += pty.readAvailable() }
        #expect(back == all)
    }

    @Test func theLineIsOpenedExclusively() throws {
        let pty = try PseudoTerminal(link: dir.file("tty-2"))
        let first = try SerialPort.open(path: pty.devicePath, baud: 115_200)
        defer { first.close(); pty.close() }
        do {
            _ = try SerialPort.open(path: pty.devicePath, baud: 115_200)
            Issue.record("a second open succeeded")
        } catch {
            #expect(error.description.contains("in use by another process") || error.description.contains("busy"))
        }
    }

    @Test func errorsNameTheDevice() {
        #expect(throws: DeviceError.self) { try SerialPort.open(path: dir.file("missing"), baud: 9600) }
        do { _ = try SerialPort.open(path: dir.file("missing"), baud: 9600) } catch {
            #expect(error.description == "\(dir.file("missing")): open failed: No such file or directory")
        }
        FileManager.default.createFile(atPath: dir.file("plain"), contents: Data())
        do { _ = try SerialPort.open(path: dir.file("plain"), baud: 9600) } catch {
            #expect(error.description.contains("not a terminal device"))
        }
    }

    @Test func writingAfterAnUnplugFailsCleanly() async throws {
        let pty = try PseudoTerminal(link: dir.file("tty-3"))
        let port = try SerialPort.open(path: pty.devicePath, baud: 115_200)
        port.close()
        do {
            try port.write([1, 2, 3])
            Issue.record("wrote to a closed device")
        } catch {
            #expect(error.description.contains("device closed"))
        }
        pty.close()
    }

    @Test func theSimulatorNeverReplacesARealFile() throws {
        FileManager.default.createFile(atPath: dir.file("precious"), contents: Data("keep".utf8))
        #expect(throws: SimulatorError.self) { try PseudoTerminal(link: dir.file("precious")) }
        #expect(FileManager.default.contents(atPath: dir.file("precious")) == Data("keep".utf8))
        // A stale link from an earlier run is replaced.
        #expect(symlink("/nonexistent", dir.file("stale")) == 0)
        let pty = try PseudoTerminal(link: dir.file("stale"))
        #expect(FileManager.default.fileExists(atPath: dir.file("stale")))
        pty.close()
    }

    @Test func unplugEndsTheStream() async throws {
        let pty = try PseudoTerminal(link: dir.file("tty-4"))
        let port = try SerialPort.open(path: pty.devicePath, baud: 115_200)
        pty.write([1, 2, 3])
        pty.close()
        var ended: String?
        for await chunk in port.chunks { if case .ended(let reason) = chunk { ended = reason } }
        #expect(ended != nil)
    }
}

@Suite struct EvdevTests {
    let dir = TemporaryDirectory()

    @Test func inputEventRecordsThroughAFIFO() async throws {
        let path = dir.file("kbd")
        #expect(mkfifo(path, 0o600) == 0)
        let writer = open(path, O_RDWR)
        defer { close(writer) }
        let opened = try EvdevDevice.open(path: path)
        defer { opened.stream.close() }
        #expect(!opened.grabbed)
        let records = HIDKeyAssembler.keyCodes(for: "0006480805").flatMap {
            InputEventRecord(type: 1, code: $0, value: 1).bytes + InputEventRecord(type: 1, code: $0, value: 0).bytes
        }
        // Split mid-record on purpose.
        _ = records[0..<30].withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        _ = records[30...].withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        var decoder = InputEventRecordDecoder()
        var assembler = HIDKeyAssembler()
        var cards: [HIDKeyAssembler.Output] = []
        for await chunk in opened.stream.chunks {
            guard case .bytes(let b) = chunk else { break }
            for r in decoder.feed(b) { cards += assembler.key(code: r.code, value: r.value, now: .zero) }
            if !cards.isEmpty { break }
        }
        #expect(cards == [.card(NormalizedCardNumber("0006480805"))])
    }

    @Test func aPlainFileIsNotAnInputDevice() {
        FileManager.default.createFile(atPath: dir.file("plain"), contents: Data(repeating: 0, count: 48))
        do {
            _ = try EvdevDevice.open(path: dir.file("plain"))
            Issue.record("opened a plain file as evdev")
        } catch {
            #expect(error.description.contains("not an evdev input device"))
        }
    }

    /// Reported as skipped where the kernel has no uinput (the FIFO path is tested instead).
    @Test(.enabled(if: SimulatedHIDReader.uinputAvailable, "/dev/uinput is not available on this machine (kernel without uinput)"))
    func uinputKeyboardWhereTheKernelHasIt() async throws {
        let sim = try SimulatedHIDReader(link: dir.file("unused"))
        defer { sim.close() }
        // udev creates the node: wait for it rather than for a fixed time.
        var node: String?
        let deadline = ContinuousClock.now + .seconds(10)
        while node == nil, ContinuousClock.now < deadline {
            node = UdevDirectory.resolve(.usb(vendor: "ffff", product: "0035"), hid: true)
            if node == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let found = try #require(node, "udev made no node for the simulated keyboard")
        let _ = found
        guard let node else { return }
        let opened = try EvdevDevice.open(path: node)
        defer { opened.stream.close() }
        #expect(opened.grabbed)
        sim.present(number: "0006480805", name: "")
        var decoder = InputEventRecordDecoder()
        var assembler = HIDKeyAssembler()
        for await chunk in opened.stream.chunks {
            guard case .bytes(let b) = chunk else { break }
            var out: [HIDKeyAssembler.Output] = []
            for r in decoder.feed(b) where r.type == 1 { out += assembler.key(code: r.code, value: r.value, now: .zero) }
            if !out.isEmpty { #expect(out == [.card(NormalizedCardNumber("0006480805"))]); break }
        }
    }
}

@Suite struct UdevTests {
    @Test func enumeratesTTYDevicesWithoutUdevd() {
        // sysfs always has the virtual consoles / serial ports; this proves libudev is wired up.
        let ttys = UdevDirectory.devices(subsystem: "tty")
        #expect(!ttys.isEmpty)
        #expect(ttys.allSatisfy { $0.devnode.hasPrefix("/dev/") })
    }

    @Test func aMissingUSBReaderResolvesToNothing() {
        #expect(UdevDirectory.resolve(.usb(vendor: "dead", product: "beef"), hid: false) == nil)
        #expect(UdevDirectory.resolve(.path("/dev/yizhan-no-such-reader"), hid: false) == nil)
    }

    @Test func aChangeBetweenAttemptAndWaitIsNotLost() async {
        let n = DeviceChangeNotifier()
        let generation = n.generation
        n.notify()  // a reader is plugged in while the supervisor is still looking
        let start = ContinuousClock.now
        await n.wait(timeout: .seconds(30), since: generation)
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    /// A wake-up is never lost: whether `notify()` comes before or after the waiter is in
    /// place, `wait` returns long before its hour-long timeout (the time limit fails a lost
    /// one; no sleeping, so a loaded machine cannot fail it).
    @Test(.timeLimit(.minutes(1))) func changeNotifierWakesWaiters() async {
        let n = DeviceChangeNotifier()
        // Notified while waiting (or just before the waiter registered: the generation says so).
        let before = n.generation
        async let waited: Void = n.wait(timeout: .seconds(3600), since: before)
        n.notify()
        await waited
        // Notified before the wait began at all.
        let generation = n.generation
        n.notify()
        await n.wait(timeout: .seconds(3600), since: generation)
        #expect(n.generation == generation + 1)
    }
}
