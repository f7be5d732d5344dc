import Testing

@testable import CreditCore

@Suite struct USCCTests {
    @Test func acceptsTheWorkedExample() throws {
        let code = try #require(USCC("91350100M000100Y43"))
        #expect(code.value == "91350100M000100Y43")
    }

    @Test func normalisesCaseAndBlanks() {
        #expect(USCC("  91350100m000100y43 ")?.value == "91350100M000100Y43")
        #expect(USCC("\u{3000}91350100M000100Y43\u{3000}")?.value == "91350100M000100Y43")
    }

    @Test func refusesWrongLength() {
        #expect(USCC.parse("91350100M000100Y4") == .failure(.wrongLength(17)))
        #expect(USCC.parse("") == .failure(.wrongLength(0)))
    }

    @Test func refusesCharactersOutsideTheAlphabet() {
        // I, O, S, V and Z are not in the USCC alphabet.
        #expect(USCC.parse("91350100I000100Y43") == .failure(.invalidCharacter(position: 9, character: "I")))
        #expect(USCC.parse("9135010-M000100Y43") == .failure(.invalidCharacter(position: 8, character: "-")))
    }

    @Test func refusesABadOrganisationCodeCheck() {
        #expect(USCC.parse("91350100M000100Y53") == .failure(.organisationCodeCheckFailed(expected: "4", found: "5")))
    }

    @Test func refusesABadCheckCharacter() {
        #expect(USCC.parse("91350100M000100Y44") == .failure(.checkCharacterFailed(expected: "3", found: "4")))
    }

    @Test func weightsArePowersOfThreeModulo31() {
        #expect(USCC.weights == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
    }

    @Test func madeCodesValidateAndEverySingleCharacterChangeIsCaught() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = USCC.alphabet
        var made = 0
        for _ in 0..<500 {
            let prefix = String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
            guard let code = USCC.make(prefix16: prefix) else { continue }  // organisation check 'X' is outside the alphabet
            made += 1
            #expect(USCC(code.value) == code)
            var chars = Array(code.value)
            let position = Int.random(in: 0..<18, using: &generator)
            let original = chars[position]
            chars[position] = alphabet.first { $0 != original }!
            #expect(USCC(String(chars)) == nil, "changing position \(position + 1) of \(code.value) must be caught")
        }
        #expect(made > 300)
    }
}

@Suite struct ResidentIDTests {
    @Test func validatesTheCheckCharacter() throws {
        let check = try #require(ResidentID.checkCharacter(for: "32060219800101123"))
        let id = "32060219800101123" + String(check)
        #expect(ResidentID.validate(id) == id)
        #expect(ResidentID.validate(id.lowercased()) == id)
        let wrong: Character = check == "0" ? "1" : "0"
        #expect(ResidentID.validate("32060219800101123" + String(wrong)) == nil)
        #expect(ResidentID.validate("3206021980010112") == nil)
        #expect(ResidentID.validate("3206021980010112A3") == nil)
    }

    @Test func knownNumberWithXCheck() {
        // 11010519491231002X is the standard's published example.
        #expect(ResidentID.validate("11010519491231002X") == "11010519491231002X")
    }

    @Test func masksAllButFourAtEachEnd() {
        #expect(ResidentID.masked("32060219800101123X") == "3206**********123X")
    }
}
