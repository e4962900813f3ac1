import YizhanCore

/// The GA 467 reader session as the station's driver runs it (ReaderDrivers.swift): bytes
/// from the reader go through the frame decoder into the session, clock ticks come between,
/// every `.send` clears the decoder, and a `.failed` reader is reopened with a new session.
///
/// The input is a script:
/// - `0x00...0x7F, n`: the reader sends the next `(op << 8 | n)` bytes (fewer at the end);
/// - `0x80...0xFF`: the clock advances `(op & 0x7F) × 25` ms, then the driver ticks.
///
/// Checks: `start` asks for the SAM status and nothing else; every call returns at most two
/// actions and at most one request; requests come in protocol order (select only after a
/// find, read only after a select; `.up` answers a SAM status, a card read answers a read);
/// a text block is 256 bytes; a session that failed says nothing more; and a second card
/// is only read after the reader has said "no card" (one visit per presentation).
enum IDCardSessionTarget {
    struct SessionCheck {
        var lastSent: IDCardCommand?
        var isUp = false
        var failed = false
        var cardsRead = 0
        var noCardSinceLastRead = true

        mutating func check(_ actions: [IDCardReaderSession.Action]) throws(InvariantViolation) {
            try require(actions.count <= 2, .idcardSession, "\(actions.count) actions from one call: \(actions)")
            try require(!failed || actions.isEmpty, .idcardSession, "actions after the session failed: \(actions)")
            var sends = 0
            for action in actions {
                switch action {
                case .send(let command):
                    sends += 1
                    switch command {
                    case .selectCard: try require(lastSent == .findCard, .idcardSession, "select after \(String(describing: lastSent))")
                    case .readText: try require(lastSent == .selectCard, .idcardSession, "read after \(String(describing: lastSent))")
                    case .samStatus, .findCard: break
                    }
                    if command == .findCard { try require(isUp, .idcardSession, "find card before the SAM answered") }
                    lastSent = command
                case .up:
                    try require(!isUp, .idcardSession, "up twice")
                    try require(lastSent == .samStatus, .idcardSession, "up after \(String(describing: lastSent))")
                    isUp = true
                case .cardRead(let block):
                    try require(block.count == 256, .idcardSession, "text block of \(block.count) bytes")
                    try require(lastSent == .readText, .idcardSession, "card read after \(String(describing: lastSent))")
                    try require(noCardSinceLastRead, .idcardSession, "a second read of a card that never left the reader")
                    cardsRead += 1
                    noCardSinceLastRead = false
                    _ = IDCardTextTarget.decodeLikeTheDriver(block)
                case .badRead(let reason):
                    try require(lastSent == .readText, .idcardSession, "bad read after \(String(describing: lastSent))")
                    try require(!reason.isEmpty && reason.utf8.count < 200, .idcardSession, "bad read reason of \(reason.utf8.count) bytes")
                case .failed:
                    failed = true
                }
            }
            try require(sends <= 1, .idcardSession, "\(sends) requests from one call")
        }
    }

    static let noCardBody: [UInt8] = [0x00, 0x00, IDCardStatus.noCard.code]

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        var script = ByteScript(bytes)
        var now: Duration = .zero
        var session = IDCardReaderSession()
        var decoder = GA467FrameDecoder()
        var check = SessionCheck()
        var reopens = 0

        // Like the driver: every call's actions are checked as they come, and the decoder is
        // cleared once the chunk's frames are all through if any request went out.
        var sent = false
        func perform(_ actions: [IDCardReaderSession.Action]) throws(InvariantViolation) {
            try check.check(actions)
            if actions.contains(where: { if case .send = $0 { true } else { false } }) { sent = true }
        }

        let first = session.start(now: now)
        try require(first == [.send(.samStatus)], .idcardSession, "start gave \(first)")
        try perform(first)
        decoder.reset()

        while let op = script.next() {
            sent = false
            if op & 0x80 == 0 {
                let count = Int(op) << 8 | Int(script.next() ?? 0)
                decoder.append(script.take(count))
                while let result = decoder.next() {
                    switch result {
                    case .success(let body):
                        guard let response = IDCardResponse(body: body) else { continue }
                        if body.prefix(3).elementsEqual(noCardBody) { check.noCardSinceLastRead = true }
                        try perform(session.receive(response, now: now))
                    case .failure(let error):
                        try perform(session.frameError(error, now: now))
                    }
                }
            } else {
                now += .milliseconds(Int(op & 0x7F) * 25)
                try perform(session.tick(now: now))
            }
            if sent { decoder.reset() }
            try require(session.hasFailed == check.failed, .idcardSession, "hasFailed disagrees with the actions")
            if session.hasFailed {
                // The supervisor reopens the device: a new session and decoder.
                reopens += 1
                try require(reopens <= bytes.count, .idcardSession, "reopened more often than there are input bytes")
                session = IDCardReaderSession()
                decoder = GA467FrameDecoder()
                check = SessionCheck()
                let again = session.start(now: now)
                try require(again == [.send(.samStatus)], .idcardSession, "restart gave \(again)")
                try perform(again)
                decoder.reset()
            }
        }
    }
}
