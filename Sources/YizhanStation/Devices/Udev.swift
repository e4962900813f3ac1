import CUdev
import Foundation
import Logging
import Synchronization
@preconcurrency import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A device node found through libudev.
public struct UdevDevice: Sendable, Hashable {
    public var devnode: String
    public var subsystem: String
    public var sysname: String
    /// USB vendor:product of the nearest USB parent, lowercase hex.
    public var usbVendor: String?
    public var usbProduct: String?
}

/// Enumerates `tty` and `input` devices with libudev and matches configured readers.
/// Works without systemd-udevd (sysfs attributes); udev properties from our rules file
/// need udevd.
public enum UdevDirectory {
    public static func devices(subsystem: String, property: (String, String)? = nil) -> [UdevDevice] {
        guard let udev = udev_new() else { return [] }
        defer { udev_unref(udev) }
        guard let e = udev_enumerate_new(udev) else { return [] }
        defer { udev_enumerate_unref(e) }
        udev_enumerate_add_match_subsystem(e, subsystem)
        if let (name, value) = property { udev_enumerate_add_match_property(e, name, value) }
        udev_enumerate_scan_devices(e)
        var out: [UdevDevice] = []
        var entry = udev_enumerate_get_list_entry(e)
        while let current = entry {
            defer { entry = udev_list_entry_get_next(current) }
            guard let syspath = udev_list_entry_get_name(current),
                  let dev = udev_device_new_from_syspath(udev, syspath) else { continue }
            defer { udev_device_unref(dev) }
            guard let node = udev_device_get_devnode(dev) else { continue }
            var found = UdevDevice(devnode: String(cString: node), subsystem: subsystem,
                                   sysname: udev_device_get_sysname(dev).map { String(cString: $0) } ?? "")
            if let usb = udev_device_get_parent_with_subsystem_devtype(dev, "usb", "usb_device") {
                found.usbVendor = udev_device_get_sysattr_value(usb, "idVendor").map { String(cString: $0).lowercased() }
                found.usbProduct = udev_device_get_sysattr_value(usb, "idProduct").map { String(cString: $0).lowercased() }
            }
            out.append(found)
        }
        return out.sorted { $0.devnode < $1.devnode }
    }

    /// The device node for a configured reader right now, or nil when it is not plugged in.
    public static func resolve(_ match: StationConfiguration.DeviceMatch, hid: Bool) -> String? {
        let subsystem = hid ? "input" : "tty"
        func pick(_ candidates: [UdevDevice]) -> String? {
            if hid {
                return EvdevDevice.keyboardNode(among: candidates.filter { $0.sysname.hasPrefix("event") }.map(\.devnode))
            }
            return candidates.first?.devnode
        }
        switch match {
        case .path(let path):
            return FileManager.default.fileExists(atPath: path) ? path : nil
        case .usb(let vendor, let product):
            return pick(devices(subsystem: subsystem).filter { $0.usbVendor == vendor && $0.usbProduct == product })
        case .property(let name, let value):
            return pick(devices(subsystem: subsystem, property: (name, value)))
        }
    }
}

/// Wakes the reader supervisors when something may have changed (udev add/remove), so a
/// replugged reader comes back at once instead of at the next retry.
public final class DeviceChangeNotifier: Sendable {
    private let waiters = Mutex<[UInt64: AsyncStream<Void>.Continuation]>([:])
    private let nextID = Atomic<UInt64>(0)
    private let changes = Atomic<UInt64>(0)

    public init() {}

    /// Counts changes; take it before looking for a device and pass it to `wait`.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    public func notify() {
        changes.add(1, ordering: .releasing)
        let all = waiters.withLock { w in defer { w.removeAll() }; return Array(w.values) }
        for c in all { c.yield(); c.finish() }
    }

    /// Returns after `timeout`, or earlier when `notify()` is called, or at once when a
    /// change happened since `generation` was read (no wake-up is lost in between).
    public func wait(timeout: Duration, since generation: UInt64? = nil) async {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        waiters.withLock { $0[id] = continuation }
        if let generation, self.generation != generation {
            waiters.withLock { $0[id] = nil }
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { for await _ in stream { return } }
            await group.next()
            group.cancelAll()
        }
        waiters.withLock { $0[id] = nil }
    }
}

/// A libudev monitor on `tty` and `input`. Listens to udevd's events when udevd runs
/// (devices are then fully set up) and to the kernel's otherwise.
public final class UdevMonitor: @unchecked Sendable {
    // libudev objects are used from the monitor's own queue only.
    private let udev: OpaquePointer
    private let monitor: OpaquePointer
    private let source: any DispatchSourceRead
    public let origin: String

    public init?(logger: Logger, onChange: @escaping @Sendable (_ action: String, _ devnode: String?) -> Void) {
        guard let udev = udev_new() else { return nil }
        let origin = FileManager.default.fileExists(atPath: "/run/udev/control") ? "udev" : "kernel"
        guard let monitor = udev_monitor_new_from_netlink(udev, origin) else {
            udev_unref(udev)
            return nil
        }
        udev_monitor_filter_add_match_subsystem_devtype(monitor, "tty", nil)
        udev_monitor_filter_add_match_subsystem_devtype(monitor, "input", nil)
        guard udev_monitor_enable_receiving(monitor) == 0 else {
            logger.warning("udev monitor unavailable; readers are found by periodic retries only")
            udev_monitor_unref(monitor)
            udev_unref(udev)
            return nil
        }
        let fd = udev_monitor_get_fd(monitor)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.udev = udev
        self.monitor = monitor
        self.origin = origin
        let queue = DispatchQueue(label: "yizhan.udev")
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        self.source = source
        source.setEventHandler {
            while let dev = udev_monitor_receive_device(monitor) {
                let action = udev_device_get_action(dev).map { String(cString: $0) } ?? "change"
                let node = udev_device_get_devnode(dev).map { String(cString: $0) }
                udev_device_unref(dev)
                onChange(action, node)
            }
        }
        source.setCancelHandler {
            udev_monitor_unref(monitor)
            udev_unref(udev)
        }
        source.activate()
    }

    public func stop() { source.cancel() }
}
