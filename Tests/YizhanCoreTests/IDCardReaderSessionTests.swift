import Testing
@testable import YizhanCore

@Suite struct IDCardReaderSessionTests {
    let ok = IDCardResponse(status: .success)
    let noCard = IDCardResponse(status: .noCard)
    let present = IDCardResponse(status: .cardPresent, data: [0, 0, 0, 0])
    let selected = IDCardResponse(status: .success, data: Array(repeating: 0, count: 8))
    var readOK: IDCardResponse {
        IDCardResponse(status: .success, data: IDCardReadData.encode(
            textBlock: IDCardText.encodeResidentID(name: "张三", number: "11010519491231002X")))
    }

    func ms(_ v: Int) -> Duration { .milliseconds(v) }

    @Test func startsWithSAMStatusAndComesUp() {
        var s = IDCardReaderSession()
        #expect(s.start(now: .zero) == [.send(.samStatus)])
        #expect(s.receive(ok, now: ms(10)) == [.up, .send(.findCard)])
    }

    @Test func aVisitOnlyOnTheNoCardToCardTransition() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        _ = s.receive(ok, now: ms(10))                      // → find
        #expect(s.receive(noCard, now: ms(20)).isEmpty)     // idle until the next poll
        #expect(s.tick(now: ms(300)) == [.send(.findCard)])
        #expect(s.receive(present, now: ms(310)) == [.send(.selectCard)])
        #expect(s.receive(selected, now: ms(320)) == [.send(.readText)])
        let read = s.receive(readOK, now: ms(420))
        guard case .cardRead(let block) = read.first else { Issue.record("no read: \(read)"); return }
        #expect(block.count == 256)
        // The card stays: the reader answers 80, then (some readers) 9F again without 80 in between.
        _ = s.tick(now: ms(700))
        #expect(s.receive(present, now: ms(710)).isEmpty, "same card, no second visit")
        _ = s.tick(now: ms(1000))
        #expect(s.receive(noCard, now: ms(1010)).isEmpty)
        _ = s.tick(now: ms(1300))
        #expect(s.receive(present, now: ms(1310)) == [.send(.selectCard)], "new presentation after 80")
    }

    @Test func checksSAMPeriodically() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        _ = s.receive(ok, now: ms(10))
        _ = s.receive(noCard, now: ms(20))
        #expect(s.tick(now: ms(5010)) == [.send(.samStatus)])
    }

    @Test func brokenSAMMarksTheReaderFailed() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        let actions = s.receive(IDCardResponse(status: .samSelfTestFailed), now: ms(10))
        #expect(actions == [.failed("SAM status check failed: SAM self-test failed (SW3 60)")])
        #expect(s.hasFailed)
    }

    @Test func silenceMarksTheReaderFailedAfterTheTimeout() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        _ = s.receive(ok, now: ms(10))
        #expect(s.tick(now: ms(1600)) == [.send(.findCard)], "request timed out: retried")
        #expect(s.tick(now: ms(3200)) == [.send(.findCard)])
        #expect(s.tick(now: ms(5010)) == [.failed("no valid answer for 5 s")])
        #expect(s.tick(now: ms(6000)).isEmpty)
    }

    @Test func failedReadIsABadReadAndRetried() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        _ = s.receive(ok, now: ms(10))
        _ = s.receive(present, now: ms(20))
        _ = s.receive(selected, now: ms(30))
        let actions = s.receive(IDCardResponse(status: .readFailed), now: ms(40))
        #expect(actions.first == .badRead("read failed: read failed (SW3 41)"))
        _ = s.tick(now: ms(400))
        #expect(s.receive(present, now: ms(410)) == [.send(.selectCard)], "still unread: try again")
        _ = s.receive(selected, now: ms(420))
        #expect(s.receive(IDCardResponse(status: .readFailed), now: ms(430)).isEmpty, "one bad read per presentation")
        _ = s.tick(now: ms(700))
        _ = s.receive(noCard, now: ms(710))                 // the card left
        _ = s.tick(now: ms(1000))
        _ = s.receive(present, now: ms(1010))
        _ = s.receive(selected, now: ms(1020))
        #expect(s.receive(IDCardResponse(status: .readFailed), now: ms(1030)).first == .badRead("read failed: read failed (SW3 41)"))
    }

    @Test func truncatedReadDataIsABadRead() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        _ = s.receive(ok, now: ms(10))
        _ = s.receive(present, now: ms(20))
        _ = s.receive(selected, now: ms(30))
        let actions = s.receive(IDCardResponse(status: .success, data: [1, 0, 4, 0, 9]), now: ms(40))
        #expect(actions.first == .badRead("read data truncated at 5 bytes"))
    }

    @Test func aCorruptAnswerIsRetriedAtOnce() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        _ = s.receive(ok, now: ms(10))                    // → find sent at 10 ms
        #expect(s.frameError(.garbage(byteCount: 3), now: ms(20)).isEmpty, "noise: keep waiting")
        #expect(s.frameError(.badChecksum(expected: 1, received: 2), now: ms(30)) == [.send(.findCard)])
    }

    @Test func unsolicitedAnswersAreIgnored() {
        var s = IDCardReaderSession()
        _ = s.start(now: .zero)
        _ = s.receive(ok, now: ms(10))
        _ = s.receive(noCard, now: ms(20))
        #expect(s.receive(present, now: ms(30)).isEmpty)
    }
}
