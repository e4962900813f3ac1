/// Calendar fields of an instant in a given UTC offset (proleptic Gregorian calendar).
public struct CivilTime: Hashable, Sendable {
    public var year: Int, month: Int, day: Int
    public var hour: Int, minute: Int, second: Int, millisecond: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second; self.millisecond = millisecond
    }

    /// Minutes since local midnight.
    public var minuteOfDay: Int { hour * 60 + minute }

    /// ISO weekday, Monday = 1 ... Sunday = 7.
    public var weekday: Int {
        let days = CivilTime.daysFromCivil(year, month, day)
        // 1970-01-01 was a Thursday (4).
        let w = ((days % 7) + 7 + 3) % 7  // 0 = Monday
        return w + 1
    }

    public init(_ t: Timestamp, offset: UTCOffset) {
        let local = t.millisecondsSinceEpoch + Int64(offset.seconds) * 1000
        var days = local / 86_400_000
        var msOfDay = local % 86_400_000
        if msOfDay < 0 { msOfDay += 86_400_000; days -= 1 }
        let (y, m, d) = CivilTime.civilFromDays(Int(days))
        let ms = Int(msOfDay)
        self.init(year: y, month: m, day: d, hour: ms / 3_600_000, minute: (ms / 60_000) % 60,
                  second: (ms / 1000) % 60, millisecond: ms % 1000)
    }

    public func timestamp(offset: UTCOffset) -> Timestamp {
        let days = Int64(CivilTime.daysFromCivil(year, month, day))
        let ms = days * 86_400_000 + Int64(hour) * 3_600_000 + Int64(minute) * 60_000
            + Int64(second) * 1000 + Int64(millisecond)
        return Timestamp(millisecondsSinceEpoch: ms - Int64(offset.seconds) * 1000)
    }

    // Howard Hinnant's days-from-civil algorithms (public domain), exact for all dates.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
