import Testing
@testable import YizhanCore

@Suite struct ResidentIDNumberTests {
    @Test func acceptsValidNumbers() throws {
        #expect(try ResidentIDNumber(validating: "11010519491231002X").value == "11010519491231002X")
        #expect(try ResidentIDNumber(validating: "11010519491231002x").value == "11010519491231002X")
        #expect(try ResidentIDNumber(validating: "330903199003074570").value == "330903199003074570")
    }

    @Test func checkCharacterMatchesISO7064() {
        #expect(ResidentIDNumber.checkCharacter(forDigits: Array("11010519491231002")) == "X")
        #expect(ResidentIDNumber.checkCharacter(forDigits: Array("44030420000101000")) == "9")
    }

    @Test func rejectsWrongCheckCharacterLengthAndLetters() {
        #expect(throws: ResidentIDNumberError.badCheckCharacter) { try ResidentIDNumber(validating: "110105194912310021") }
        #expect(throws: ResidentIDNumberError.wrongLength(17)) { try ResidentIDNumber(validating: "11010519491231002") }
        #expect(throws: ResidentIDNumberError.notDigits) { try ResidentIDNumber(validating: "1101051949123100AX") }
    }
}

@Suite struct CardKeyTests {
    let keyer = try! CardKeyer(regionKey: Array("0123456789abcdef0123456789abcdef".utf8))

    @Test func cardKeyIsHMACSHA256OfNormalisedNumber() {
        // Computed independently:
        // python3 -c "import hmac,hashlib;print(hmac.new(b'0123456789abcdef0123456789abcdef',b'11010519491231002X',hashlib.sha256).hexdigest())"
        #expect(keyer.key(for: NormalizedCardNumber("11010519491231002x")).hex
                == "7b2b7323b75750d6b3bf13c96f9841b6f9b099fed3f4ac35fa61cfa57ff8b97b")
    }

    @Test func sameCardSameKeyAcrossReaderTypes() {
        // An EM4100 tag read by an RDM6300 (hex → decimal) and typed by a HID reader.
        let fromRDM = RDM6300Decoder.cardNumber(tag: 0x0062_E3A5)
        let fromHID = NormalizedCardNumber("0006480805")
        #expect(fromRDM == fromHID)
        #expect(keyer.key(for: fromRDM) == keyer.key(for: fromHID))
        #expect(keyer.key(for: fromRDM) != keyer.key(for: NormalizedCardNumber("0006480806")))
    }

    @Test func differentRegionKeysGiveDifferentKeys() throws {
        let other = try CardKeyer(regionKey: Array("another-region-key-32-bytes-long".utf8))
        let n = NormalizedCardNumber("11010519491231002X")
        #expect(keyer.key(for: n) != other.key(for: n))
    }

    @Test func shortRegionKeyIsRefused() {
        #expect(throws: CardKeyerError.regionKeyTooShort(5)) { try CardKeyer(regionKey: Array("short".utf8)) }
    }

    @Test func hintsRevealNoMoreThanEightCharacters() {
        #expect(NormalizedCardNumber("33010619900307123X").hint == "3301**********123X")
        #expect(NormalizedCardNumber("0006480805").hint == "******0805")
        #expect(NormalizedCardNumber("12").hint == "******0012")
        #expect(NormalizedCardNumber("ABC").hint == "***")
    }

    @Test func namesAreMasked() {
        #expect(maskedName("张三") == "张*")
        #expect(maskedName("欧阳娜娜") == "欧***")
        #expect(maskedName("李") == "李*")
        #expect(maskedName("") == "")
    }
}
