import CShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opens a serial reader: raw 8N1 at the configured baud, no flow control, exclusive.
public enum SerialPort {
    public static func open(path: String, baud: Int, deliver: (@Sendable (DeviceStream.Chunk) -> Void)? = nil) throws(DeviceError) -> DeviceStream {
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw DeviceError(path: path, operation: "open", errno: errno) }
        // flock keeps a second yizhan-station (even as root) off the line; TIOCEXCL keeps
        // every other non-root program (ModemManager, a stray getty) from opening it.
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            Glibc.close(fd)
            throw DeviceError(path: path, operation: "lock", errno: e, message: e == EWOULDBLOCK ? "in use by another process" : nil)
        }
        let rc = yz_tty_configure_raw(fd, UInt32(baud))
        if rc != 0 {
            let e = errno
            Glibc.close(fd)
            throw DeviceError(path: path, operation: "configure \(baud) 8N1 raw", errno: e,
                              message: rc == -2 ? "unsupported baud rate \(baud)" : (e == ENOTTY ? "not a terminal device" : nil))
        }
        _ = yz_tty_set_exclusive(fd)
        return DeviceStream(path: path, fd: fd, deliver: deliver)
    }
}

/// Opens an evdev keyboard node with an exclusive grab, so a keyboard-wedge reader's
/// digits reach only us, never the kiosk or a console login.
public enum EvdevDevice {
    public struct Opened: Sendable {
        public var stream: DeviceStream
        public var name: String?
        /// False for a FIFO or file of `input_event` records (tests, the simulator on
        /// machines without uinput), which cannot be grabbed.
        public var grabbed: Bool
    }

    public static func open(path: String, deliver: (@Sendable (DeviceStream.Chunk) -> Void)? = nil) throws(DeviceError) -> Opened {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw DeviceError(path: path, operation: "open", errno: errno) }
        var name: String?
        var grabbed = false
        switch yz_evdev_has_digit_keys(fd) {
        case 1:
            if yz_evdev_grab(fd, 1) != 0 {
                let e = errno
                Glibc.close(fd)
                throw DeviceError(path: path, operation: "grab (EVIOCGRAB)", errno: e,
                                  message: e == EBUSY ? "grabbed by another process" : nil)
            }
            grabbed = true
            var buf = [CChar](repeating: 0, count: 256)
            if yz_evdev_name(fd, &buf, buf.count) > 0 { name = String(cString: buf) }
        case 0:
            Glibc.close(fd)
            throw DeviceError(path: path, operation: "open", errno: 0, message: "input device has no digit keys (pick the reader's keyboard node)")
        default:
            // Not an input device: accept a FIFO of input_event records, nothing else.
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else {
                Glibc.close(fd)
                throw DeviceError(path: path, operation: "open", errno: ENOTTY, message: "not an evdev input device")
            }
        }
        return Opened(stream: DeviceStream(path: path, fd: fd, deliver: deliver), name: name, grabbed: grabbed)
    }

    /// Among `/dev/input/event*` nodes, the first with digit keys (readers that enumerate
    /// as keyboard + mouse/consumer control have several nodes).
    public static func keyboardNode(among paths: [String]) -> String? {
        for path in paths.sorted() {
            let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { Glibc.close(fd) }
            if yz_evdev_has_digit_keys(fd) == 1 { return path }
        }
        return nil
    }
}
