import Foundation

/// Splits a SQL script into statements at top-level semicolons, respecting quoted strings
/// (`'…'`, `E'…'`), quoted identifiers (`"…"`), dollar quoting (`$$…$$`, `$tag$…$tag$`) and
/// comments (`-- …`, `/* … */`, nested). PostgresNIO speaks the extended protocol only, which
/// takes one statement at a time.
public enum SQLScript {
    public static func statements(_ script: String) -> [String] {
        let s = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        var hasContent = false

        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if hasContent && !text.isEmpty { statements.append(text) }
            current = .init()
            hasContent = false
        }
        func append(_ from: Int, _ to: Int) {
            current.append(contentsOf: s[from..<min(to, s.count)])
        }

        while i < s.count {
            let c = s[i]
            let next: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil
            if c == "-" && next == "-" {
                var j = i
                while j < s.count && s[j] != "\n" { j += 1 }
                append(i, j)
                i = j
            } else if c == "/" && next == "*" {
                var depth = 0
                var j = i
                repeat {
                    if j + 1 < s.count && s[j] == "/" && s[j + 1] == "*" {
                        depth += 1
                        j += 2
                    } else if j + 1 < s.count && s[j] == "*" && s[j + 1] == "/" {
                        depth -= 1
                        j += 2
                    } else {
                        j += 1
                    }
                } while depth > 0 && j < s.count
                append(i, j)
                i = j
            } else if c == "'" || c == "\"" {
                var j = i + 1
                while j < s.count {
                    if s[j] == c {
                        if j + 1 < s.count && s[j + 1] == c {
                            j += 2
                            continue
                        }
                        break
                    }
                    if c == "'" && s[j] == "\\" && i > 0 && (s[i - 1] == "E" || s[i - 1] == "e") {
                        j += 2
                        continue
                    }
                    j += 1
                }
                append(i, j + 1)
                hasContent = true
                i = j + 1
            } else if c == "$", let tagEnd = dollarTagEnd(s, i) {
                let tag = Array(s[i...tagEnd])
                var j = tagEnd + 1
                while j < s.count {
                    if s[j] == "$" && j + tag.count <= s.count && Array(s[j..<(j + tag.count)]) == tag { break }
                    j += 1
                }
                let end = min(j + tag.count, s.count)
                append(i, end)
                hasContent = true
                i = end
            } else if c == ";" {
                flush()
                i += 1
            } else {
                current.append(c)
                if !c.properties.isWhitespace { hasContent = true }
                i += 1
            }
        }
        flush()
        return statements
    }

    /// If a dollar-quote opening tag starts at `i` (`$$` or `$ident$`), the index of its closing `$`.
    static func dollarTagEnd(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        if i > 0, s[i - 1].properties.isAlphabetic || s[i - 1] == "_" || ("0"..."9").contains(s[i - 1]) {
            return nil  // part of an identifier such as a$b
        }
        var j = i + 1
        while j < s.count {
            let c = s[j]
            if c == "$" { return j }
            let ok = c.properties.isAlphabetic || c == "_" || (j > i + 1 && ("0"..."9").contains(c))
            if !ok { return nil }
            j += 1
        }
        return nil
    }
}
