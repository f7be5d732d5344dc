/// The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from the
/// 31-character alphabet `0-9 A-H J-N P-R T U W X Y`.
///
/// Positions 9–17 hold the organisation code, whose 9th character is its own check character
/// (GB 11714); position 18 is the check character of the whole code. Both are verified.
public struct USCC: Hashable, Sendable, CustomStringConvertible, Codable {
    public let value: String

    public static let length = 18
    static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let alphabetBytes: [UInt8] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY".utf8)
    static let alphabetIndex: [Character: Int] = {
        var index: [Character: Int] = [:]
        for (i, c) in alphabet.enumerated() { index[c] = i }
        return index
    }()
    /// Weights 3^(i−1) mod 31 for positions 1…17.
    static let weights: [Int] = {
        var w: [Int] = []
        var p = 1
        for _ in 0..<17 {
            w.append(p)
            p = (p * 3) % 31
        }
        return w
    }()
    static let organisationCodeWeights = [3, 7, 9, 10, 5, 8, 4, 2]

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case wrongLength(Int)
        case invalidCharacter(position: Int, character: Character)
        case organisationCodeCheckFailed(expected: Character, found: Character)
        case checkCharacterFailed(expected: Character, found: Character)

        public var description: String {
            switch self {
            case .wrongLength(let n): "a USCC has 18 characters, this has \(n)"
            case .invalidCharacter(let p, let c): "character '\(c)' at position \(p) is not allowed in a USCC"
            case .organisationCodeCheckFailed(let e, let f):
                "organisation code check character is '\(f)', expected '\(e)'"
            case .checkCharacterFailed(let e, let f): "check character is '\(f)', expected '\(e)'"
            }
        }

        /// A stable code for the problem, for quarantine reasons and API errors.
        public var code: String {
            switch self {
            case .wrongLength: "uscc_length"
            case .invalidCharacter: "uscc_character"
            case .organisationCodeCheckFailed: "uscc_org_check"
            case .checkCharacterFailed: "uscc_check"
            }
        }
    }

    /// Character values by ASCII byte (upper and lower case), -1 outside the alphabet.
    static let byteValue: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() {
            let b = c.asciiValue!
            table[Int(b)] = Int8(i)
            if b >= 65 && b <= 90 { table[Int(b) + 32] = Int8(i) }
        }
        return table
    }()

    /// Normalises (trims blanks, upper-cases) and validates; returns the problem when invalid.
    public static func parse(_ raw: String) -> Result<USCC, Problem> {
        let trimmed = raw.trimmingBlanks()
        var bytes = [UInt8]()
        bytes.reserveCapacity(18)
        var count = 0
        for b in trimmed.utf8 {
            count += 1
            if count <= 18 { bytes.append(b >= 97 && b <= 122 ? b - 32 : b) }
        }
        guard count == length, bytes.count == length, trimmed.unicodeScalars.count == length else {
            return .failure(.wrongLength(trimmed.count))
        }
        var values = [Int](repeating: 0, count: 18)
        for i in 0..<18 {
            let v = byteValue[Int(bytes[i])]
            guard v >= 0 else {
                return .failure(.invalidCharacter(position: i + 1, character: Character(Unicode.Scalar(bytes[i]))))
            }
            values[i] = Int(v)
        }
        // Organisation code (positions 9–16, check at 17): digits as themselves, letters A=10 … Z=35.
        var orgSum = 0
        for (k, w) in organisationCodeWeights.enumerated() {
            let b = bytes[8 + k]
            orgSum += (b >= 0x30 && b <= 0x39 ? Int(b) - 0x30 : Int(b) - 55) * w
        }
        let orgCheck = 11 - orgSum % 11
        let expectedOrg: UInt8 = orgCheck == 10 ? 0x58 : orgCheck == 11 ? 0x30 : UInt8(0x30 + orgCheck)
        if bytes[16] != expectedOrg {
            return .failure(
                .organisationCodeCheckFailed(
                    expected: Character(Unicode.Scalar(expectedOrg)),
                    found: Character(Unicode.Scalar(bytes[16]))
                )
            )
        }
        var sum = 0
        for i in 0..<17 { sum += values[i] * weights[i] }
        let check = 31 - sum % 31
        let expected = alphabetBytes[check == 31 ? 0 : check]
        if bytes[17] != expected {
            return .failure(
                .checkCharacterFailed(
                    expected: Character(Unicode.Scalar(expected)),
                    found: Character(Unicode.Scalar(bytes[17]))
                )
            )
        }
        return .success(USCC(unchecked: String(decoding: bytes, as: UTF8.self)))
    }

    public init?(_ raw: String) {
        guard case .success(let code) = USCC.parse(raw) else { return nil }
        self = code
    }

    init(unchecked: String) { self.value = unchecked }

    public var description: String { value }

    /// The check character of the whole code for its first 17 character values.
    static func checkCharacter(values: [Int]) -> Character {
        precondition(values.count == 17)
        var sum = 0
        for (v, w) in zip(values, weights) { sum += v * w }
        let check = 31 - (sum % 31)
        return alphabet[check == 31 ? 0 : check]
    }

    /// GB 11714 check character over the 8 body characters of the organisation code
    /// (digits as themselves, letters A=10 … Z=35).
    static func organisationCodeCheck(_ body: [Character]) -> Character {
        precondition(body.count == 8)
        var sum = 0
        for (c, w) in zip(body, organisationCodeWeights) {
            sum += organisationCodeValue(c) * w
        }
        let check = 11 - (sum % 11)
        switch check {
        case 10: return "X"
        case 11: return "0"
        default: return Character(String(check))
        }
    }

    static func organisationCodeValue(_ c: Character) -> Int {
        if let d = c.wholeNumberValue, c.isASCII { return d }
        guard let a = c.asciiValue, a >= 65, a <= 90 else { return 0 }
        return Int(a) - 55
    }

    /// Builds a valid code from its first 16 characters (registration authority, entity type,
    /// division and the organisation code body), computing both check characters. Used by the
    /// simulator and tests. Returns nil when a character is outside the alphabet.
    public static func make(prefix16: String) -> USCC? {
        let chars = Array(prefix16.uppercased())
        guard chars.count == 16, chars.allSatisfy({ alphabetIndex[$0] != nil }) else { return nil }
        let orgCheck = organisationCodeCheck(Array(chars[8..<16]))
        guard alphabetIndex[orgCheck] != nil else { return nil }
        let first17 = chars + [orgCheck]
        let check = checkCharacter(values: first17.map { alphabetIndex[$0]! })
        return USCC(unchecked: String(first17 + [check]))
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        switch USCC.parse(raw) {
        case .success(let code): self = code
        case .failure(let problem):
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

extension String {
    /// Trims ASCII and full-width blanks (providers may send surrounding blanks).
    public func trimmingBlanks() -> String {
        // Fast path: the first and last bytes are visible ASCII (the common case).
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x80, last > 0x20, last < 0x80 { return self }
        let blanks: Set<Character> = [" ", "\t", "\n", "\r", "\u{3000}", "\u{00A0}"]
        var s = Substring(self)
        while let f = s.first, blanks.contains(f) { s = s.dropFirst() }
        while let l = s.last, blanks.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
