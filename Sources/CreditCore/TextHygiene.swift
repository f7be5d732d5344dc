/// Text a person types that is shown to others — names, labels, staff numbers — holds no
/// characters that hide or rearrange what is shown: control, format (bidirectional overrides),
/// line and paragraph separators, private-use and surrogate code points, nor U+FFFD (what bytes
/// that were not UTF-8 became).
public enum TextHygiene {
    static let hidden: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate]

    /// Whether the text holds such a character.
    public static func hasHidden(_ text: String) -> Bool {
        text.unicodeScalars.contains { hidden.contains($0.properties.generalCategory) || $0 == "\u{FFFD}" }
    }
}
