import Testing
@testable import YizhanCore

private func bytes(_ hex: String) -> [UInt8] {
    hex.split(separator: " ").map { UInt8($0, radix: 16)! }
}

@Suite struct GA467FrameTests {
    @Test func requestFramesMatchTheProtocolTable() {
        #expect(IDCardCommand.samStatus.frame == bytes("AA AA AA 96 69 00 03 11 FF ED"))
        #expect(IDCardCommand.findCard.frame == bytes("AA AA AA 96 69 00 03 20 01 22"))
        #expect(IDCardCommand.selectCard.frame == bytes("AA AA AA 96 69 00 03 20 02 21"))
        #expect(IDCardCommand.readText.frame == bytes("AA AA AA 96 69 00 03 30 01 32"))
    }

    @Test func responseFramesMatchTheProtocolExamples() {
        #expect(IDCardResponse(status: .success).frame == bytes("AA AA AA 96 69 00 04 00 00 90 94"))
        #expect(IDCardResponse(status: .cardPresent, data: [0, 0, 0, 0]).frame
                == bytes("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"))
    }

    @Test func decodesTheDocumentedAnswers() throws {
        var d = GA467FrameDecoder()
        d.append(bytes("AA AA AA 96 69 00 04 00 00 90 94 AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"))
        let r_first = d.next()
        let first = try #require(r_first).get()
        #expect(IDCardResponse(body: first)?.isStatus(.success) == true)
        let r_second = d.next()
        let second = try #require(r_second).get()
        #expect(IDCardResponse(body: second)?.isStatus(.cardPresent) == true)
        #expect(d.next() == nil)
    }

    @Test func decodesAcrossEverySplitPoint() throws {
        let frame = IDCardResponse(status: .success, data: IDCardReadData.encode(
            textBlock: IDCardText.encodeResidentID(name: "张三", number: "11010519491231002X"))).frame
        #expect(frame.count == 7 + 0x0508)  // length 05 08 as in the protocol table
        for split in [1, 2, 5, 6, 7, 100, frame.count - 1] {
            var d = GA467FrameDecoder()
            d.append(frame[0..<split])
            #expect(d.next() == nil)
            d.append(frame[split...])
            let r_body = d.next()
        let body = try #require(r_body).get()
            #expect(body.count == 0x0508 - 1)
        }
    }

    @Test func skipsGarbageBeforeAPreamble() throws {
        var d = GA467FrameDecoder()
        d.append([0x00, 0x13, 0xAA, 0x37] + IDCardResponse(status: .noCard).frame)
        #expect(d.next() == .failure(.garbage(byteCount: 4)))
        let r_body = d.next()
        let body = try #require(r_body).get()
        #expect(IDCardResponse(body: body)?.isStatus(.noCard) == true)
    }

    @Test func keepsAPartialPreambleAtTheEnd() {
        var d = GA467FrameDecoder()
        d.append([0x01, 0x02, 0xAA, 0xAA, 0xAA])
        #expect(d.next() == .failure(.garbage(byteCount: 2)))
        #expect(d.next() == nil)
        #expect(d.pendingByteCount == 3)
        d.append([0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94])
        #expect((try? d.next()?.get()) == [0x00, 0x00, 0x90])
    }

    @Test func badChecksumIsReportedThenResyncs() throws {
        var bad = IDCardResponse(status: .success).frame
        bad[bad.count - 1] ^= 0xFF
        var d = GA467FrameDecoder()
        d.append(bad + IDCardResponse(status: .noCard).frame)
        #expect(d.next() == .failure(.badChecksum(expected: 0x94, received: 0x6B)))
        // The rest of the bad frame is garbage, then the good frame decodes.
        var results: [Result<[UInt8], GA467FrameError>] = []
        while let r = d.next() { results.append(r) }
        #expect(results.last.flatMap { try? $0.get() } == [0x00, 0x00, 0x80])
    }

    @Test func impossibleLengthIsReportedThenResyncs() {
        var d = GA467FrameDecoder()
        d.append(bytes("AA AA AA 96 69 FF FF 00") + IDCardResponse(status: .success).frame)
        #expect(d.next() == .failure(.badLength(0xFFFF)))
        var last: [UInt8]?
        while let r = d.next() { if case .success(let b) = r { last = b } }
        #expect(last == [0x00, 0x00, 0x90])
    }

    @Test func halfFrameFollowedByAWholeOneRecoversAfterReset() {
        let whole = IDCardResponse(status: .success).frame
        var d = GA467FrameDecoder()
        d.append(whole[0..<8])  // a reader unplugged mid-frame
        #expect(d.next() == nil)
        d.reset()
        d.append(whole)
        #expect((try? d.next()?.get()) == [0x00, 0x00, 0x90])
    }

    @Test func requestBodiesAreRecognised() {
        for c in IDCardCommand.allCases {
            var d = GA467FrameDecoder()
            d.append(c.frame)
            let body = try? d.next()?.get()
            #expect(body.flatMap(IDCardCommand.init(body:)) == c)
        }
        #expect(IDCardCommand(body: [0x99, 0x01]) == nil)
    }
}

@Suite struct IDCardTextTests {
    @Test func parsesTheResidentIDLayout() throws {
        let block = IDCardText.encodeResidentID(name: "张三", number: "11010519491231002X")
        #expect(block.count == 256)
        // "张" is U+5F20: UTF-16LE 20 5F at offset 0; the number starts at offset 122.
        #expect(Array(block[0..<2]) == [0x20, 0x5F])
        #expect(Array(block[122..<124]) == [0x31, 0x00])
        let text = try IDCardText(block: block)
        #expect(text.layout == .residentID)
        #expect(text.name == "张三")
        #expect(try text.validatedNumber().value == "11010519491231002X")
    }

    @Test func wrongCheckDigitIsABadRead() throws {
        let text = try IDCardText(block: IDCardText.encodeResidentID(name: "张三", number: "110105194912310021"))
        #expect(throws: IDCardTextError.invalidNumber(.badCheckCharacter)) { try text.validatedNumber() }
    }

    @Test func foreignerCardGivesAKeyableNumber() throws {
        var block = IDCardText.encodeResidentID(name: "", number: "")
        let english = Array("SMITH JOHN".utf16)
        for (i, u) in english.enumerated() { block[2 * i] = UInt8(u & 0xFF); block[2 * i + 1] = UInt8(u >> 8) }
        let number = Array("USA330906190001".utf16) + Array(repeating: 0x20, count: 0)
        for (i, u) in number.enumerated() { block[122 + 2 * i] = UInt8(u & 0xFF); block[123 + 2 * i] = 0 }
        for i in 152..<158 { block[i] = i % 2 == 0 ? 0x20 : 0 }
        for i in 158..<188 { block[i] = i % 2 == 0 ? 0x20 : 0 }  // no Chinese name
        block[248] = UInt8(ascii: "I"); block[249] = 0
        let text = try IDCardText(block: block)
        #expect(text.layout == .foreignPermanentResident2017)
        #expect(try text.validatedNumber().value == "USA330906190001")
    }

    @Test func garbageTextIsAnErrorNotACrash() {
        var block = [UInt8](repeating: 0, count: 256)
        block[0] = 0x00; block[1] = 0xD8  // lone high surrogate
        #expect(throws: IDCardTextError.invalidText) { try IDCardText(block: block) }
        #expect(throws: IDCardTextError.unexpectedTextLength(10)) { try IDCardText(block: Array(repeating: 0, count: 10)) }
    }

    @Test func readDataDropsThePhoto() throws {
        let text = IDCardText.encodeResidentID(name: "李四", number: "330903199003074570")
        let data = IDCardReadData.encode(textBlock: text)
        #expect(Array(data[0..<4]) == [0x01, 0x00, 0x04, 0x00])
        #expect(try IDCardReadData.textBlock(from: data) == text)
        #expect(throws: IDCardTextError.truncated(300)) { try IDCardReadData.textBlock(from: Array(data[0..<300])) }
    }
}
