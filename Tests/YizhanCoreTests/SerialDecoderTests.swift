import Testing
@testable import YizhanCore

@Suite struct RDM6300Tests {
    // Tag 0x0062E3A5 with version 0x01: XOR(01 00 62 E3 A5) = 0x25.
    let frame: [UInt8] = [0x02] + Array("010062E3A525".utf8) + [0x03]

    @Test func encodesAndDecodesTheDocumentedLayout() {
        #expect(RDM6300Decoder.encode(version: 0x01, tag: 0x0062_E3A5) == frame)
        #expect(RDM6300Decoder.decode(frame: frame) == .success(0x0062_E3A5))
    }

    @Test func cardNumberIsTheTagInDecimalPaddedToTen() {
        #expect(RDM6300Decoder.cardNumber(tag: 0x0062_E3A5).value == "0006480805")
    }

    @Test func repeatedFramesAreOneSwipe() {
        var d = RDM6300Decoder(repeatWindow: .milliseconds(500))
        #expect(d.feed(frame, now: .zero) == [.card(NormalizedCardNumber("0006480805"))])
        #expect(d.feed(frame, now: .milliseconds(100)).isEmpty)
        #expect(d.feed(frame, now: .milliseconds(200)).isEmpty)
        #expect(d.feed(frame, now: .milliseconds(900)) == [.card(NormalizedCardNumber("0006480805"))])
    }

    @Test func splitReadsAndGarbage() {
        var d = RDM6300Decoder()
        #expect(d.feed([0x41, 0x42] + frame[0..<5], now: .zero) == [.error(.garbage(byteCount: 2))])
        #expect(d.feed(frame[5...], now: .zero) == [.card(NormalizedCardNumber("0006480805"))])
    }

    @Test func badChecksumAndFramingAreErrors() {
        var bad = frame
        bad[12] = UInt8(ascii: "8")
        #expect(RDM6300Decoder.decode(frame: bad) == .failure(.badChecksum(expected: 0x25, received: 0x28)))
        var noETX = frame
        noETX[13] = 0x00
        #expect(RDM6300Decoder.decode(frame: noETX) == .failure(.badFraming))
        var notHex = frame
        notHex[3] = UInt8(ascii: "Z")
        #expect(RDM6300Decoder.decode(frame: notHex) == .failure(.notHex))
        var d = RDM6300Decoder()
        let out = d.feed(bad + frame, now: .zero)
        #expect(out.first == .error(.badChecksum(expected: 0x25, received: 0x28)))
        #expect(out.last == .card(NormalizedCardNumber("0006480805")), "resyncs on the next STX")
    }
}

@Suite struct LineDecoderTests {
    @Test func anyTerminatorAndEmptyLines() {
        var d = LineDecoder()
        #expect(d.feed(Array("0006480805\r\n".utf8)) == [.card(NormalizedCardNumber("0006480805"))])
        #expect(d.feed(Array("12345678\r".utf8)) == [.card(NormalizedCardNumber("0012345678"))])
        #expect(d.feed(Array("\n\n".utf8)).isEmpty)
    }

    @Test func prefixSuffixAndSplits() {
        var d = LineDecoder(framing: .init(terminator: .crlf, prefix: "ID:", suffix: ";"))
        #expect(d.feed(Array("ID:11010519".utf8)).isEmpty)
        #expect(d.feed(Array("491231002X;\r\n".utf8)) == [.card(NormalizedCardNumber("11010519491231002X"))])
        #expect(d.feed(Array("XX:123;\r\n".utf8)) == [.error(.missingPrefix)])
    }

    @Test func overlongAndBinaryLinesAreErrors() {
        var d = LineDecoder(framing: .init(maximumLength: 8))
        #expect(d.feed(Array("123456789012\n".utf8)) == [.error(.tooLong(8))])
        #expect(d.feed([0x31, 0x01, 0x32, 0x0A]) == [.error(.notPrintable)])
        #expect(d.feed(Array("12 ?4\n".utf8)) == [.error(.notACardNumber)])
        #expect(d.feed(Array("5678\n".utf8)) == [.card(NormalizedCardNumber("5678"))])
    }
}

@Suite struct HIDKeyAssemblerTests {
    func type(_ a: inout HIDKeyAssembler, _ codes: [UInt16], start: Int = 0, step: Int = 10) -> [HIDKeyAssembler.Output] {
        var out: [HIDKeyAssembler.Output] = []
        for (i, c) in codes.enumerated() {
            let t = Duration.milliseconds(start + i * step)
            out += a.key(code: c, value: 1, now: t)
            out += a.key(code: c, value: 0, now: t)  // key up: ignored
        }
        return out
    }

    @Test func digitsThenEnterIsACard() {
        var a = HIDKeyAssembler()
        #expect(type(&a, HIDKeyAssembler.keyCodes(for: "0006480805")) == [.card(NormalizedCardNumber("0006480805"))])
    }

    @Test func idNumberWithXAndKeypadDigits() {
        var a = HIDKeyAssembler()
        #expect(type(&a, HIDKeyAssembler.keyCodes(for: "11010519491231002X")) == [.card(NormalizedCardNumber("11010519491231002X"))])
        // Keypad 1 2 3 4 then KP Enter.
        #expect(type(&a, [79, 80, 81, 75, 96]) == [.card(NormalizedCardNumber("1234"))])
    }

    @Test func idNumbersTypedByTheReaderAreChecked() {
        var a = HIDKeyAssembler()
        #expect(type(&a, HIDKeyAssembler.keyCodes(for: "110105194912310021")) == [.error(.invalidIDNumber)])
        var line = LineDecoder()
        #expect(line.feed(Array("110105194912310021\n".utf8)) == [.error(.invalidIDNumber)])
        #expect(line.feed(Array("11010519491231002X\n".utf8)) == [.card(NormalizedCardNumber("11010519491231002X"))])
    }

    @Test func lettersMakeABadRead() {
        var a = HIDKeyAssembler()
        #expect(type(&a, HIDKeyAssembler.keyCodes(for: "12A45678")) == [.error(.unexpectedKeys(count: 1))])
    }

    @Test func burstWithoutEnterExpires() {
        var a = HIDKeyAssembler(window: .milliseconds(500))
        #expect(type(&a, [2, 3, 4]).isEmpty)
        #expect(a.tick(now: .milliseconds(400)).isEmpty)
        #expect(a.tick(now: .milliseconds(600)) == [.error(.incomplete(keyCount: 3))])
        #expect(!a.hasPartialBurst)
    }

    @Test func tooSlowTypingIsGarbage() {
        var a = HIDKeyAssembler(window: .milliseconds(500))
        let out = type(&a, HIDKeyAssembler.keyCodes(for: "0006480805"), step: 100)
        #expect(out.first == .error(.incomplete(keyCount: 6)))
    }

    @Test func loneEnterIsIgnoredAndShortBurstIsBad() {
        var a = HIDKeyAssembler()
        #expect(type(&a, [28]).isEmpty)
        #expect(type(&a, [2, 3, 28]) == [.error(.badLength(2))])
    }

    @Test func inputEventRecordsRoundTrip() {
        let r = InputEventRecord(type: 1, code: 45, value: 1)
        #expect(r.bytes.count == 24)
        var d = InputEventRecordDecoder()
        let stream = r.bytes + InputEventRecord(type: 0, code: 0, value: 0).bytes
        #expect(d.feed(stream[0..<30]) == [r])
        #expect(d.feed(stream[30...]) == [InputEventRecord(type: 0, code: 0, value: 0)])
        #expect(InputEventRecord(type: 1, code: 2, value: -1).bytes.suffix(4) == [0xFF, 0xFF, 0xFF, 0xFF])
    }
}
