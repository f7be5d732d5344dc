/// Resident identity number (GB 11643-1999): 17 digits and a check character. Personal
/// information: never log it; show it only masked.
public enum ResidentID {
    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [Character] = Array("10X98765432")

    /// Normalises (trim, upper-case) and returns the number when its check character holds.
    public static func validate(_ raw: String) -> String? {
        let s = raw.trimmingBlanks().uppercased()
        guard s.count == 18, let check = checkCharacter(for: String(s.prefix(17))) else { return nil }
        return s.last == check ? s : nil
    }

    /// The check character for 17 digits, or nil when they are not 17 digits.
    public static func checkCharacter(for first17: String) -> Character? {
        let chars = Array(first17)
        guard chars.count == 17 else { return nil }
        var sum = 0
        for i in 0..<17 {
            guard chars[i].isASCII, let d = chars[i].wholeNumberValue else { return nil }
            sum += d * weights[i]
        }
        return checkCharacters[sum % 11]
    }

    /// `3206**********123X`: first 4 and last 4 characters kept.
    public static func masked(_ id: String) -> String {
        let chars = Array(id)
        guard chars.count > 8 else { return String(repeating: "*", count: chars.count) }
        return String(chars[0..<4]) + String(repeating: "*", count: chars.count - 8) + String(chars[(chars.count - 4)...])
    }
}
