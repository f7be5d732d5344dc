/// A QR code (ISO/IEC 18004, model 2) of a short text in byte mode at error-correction level M —
/// what an authenticator app scans to enrol a TOTP secret (`otpauth://…`), drawn as SVG by the
/// server (the pages run no script). Versions 1 to 10 (up to 213 bytes at level M): the links
/// this service shows are about 120. After Project Nayuki's reference implementation (MIT).
public struct QRCode: Sendable, Equatable {
    /// Modules per side (21 to 57).
    public let size: Int
    /// Dark modules, row by row.
    public let modules: [Bool]
    /// The mask pattern used (0–7).
    public let mask: Int
    public let version: Int

    public subscript(x: Int, y: Int) -> Bool { modules[y * size + x] }

    public enum Failure: Error, Equatable { case tooLong(Int) }

    /// The most bytes a code holds here (version 10, level M).
    public static let maxBytes = 213
    static let maxVersion = 10
    // Level M, index by version (0 unused).
    static let eccPerBlock = [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26]
    static let blocks = [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5]
    /// Level M's two format bits.
    static let levelBits = 0

    /// Encodes `text`'s UTF-8 bytes in the smallest version that holds them; `mask` forces a
    /// mask pattern (otherwise the one with the least penalty, as the standard chooses).
    public static func encode(_ text: String, mask forced: Int? = nil) throws -> QRCode {
        let bytes = Array(text.utf8)
        guard let version = (1...maxVersion).first(where: { 4 + countBits($0) + 8 * bytes.count <= dataCodewords($0) * 8 }) else {
            throw Failure.tooLong(bytes.count)
        }
        // Mode (byte), count, data; terminator; to a whole byte; pad bytes.
        var bits: [Bool] = []
        func append(_ value: Int, _ n: Int) { for i in stride(from: n - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, countBits(version))
        for b in bytes { append(Int(b), 8) }
        let capacity = dataCodewords(version) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var pad = 0xEC
        while bits.count < capacity {
            append(pad, 8)
            pad ^= 0xEC ^ 0x11
        }
        var data: [UInt8] = []
        for i in stride(from: 0, to: bits.count, by: 8) {
            data.append(bits[i..<i + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) })
        }
        var grid = Grid(version: version)
        grid.drawFunctionPatterns()
        grid.drawCodewords(withECC(data, version: version))
        let mask = forced ?? (0..<8).min { a, b in grid.penalty(masked: a) < grid.penalty(masked: b) }!
        grid.applyMask(mask)
        grid.drawFormat(mask: mask)
        return QRCode(size: grid.size, modules: grid.modules, mask: mask, version: version)
    }

    /// The code as an SVG image with its quiet zone (4 modules), `pixels` wide.
    public func svg(pixels: Int = 200, label: String) -> String {
        let side = size + 8
        var path = ""
        for y in 0..<size {
            for x in 0..<size where self[x, y] { path += "M\(x + 4) \(y + 4)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" width="\(pixels)" height="\(pixels)" role="img" aria-label="\(label)" shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }

    static func countBits(_ version: Int) -> Int { version <= 9 ? 8 : 16 }

    static func rawModules(_ v: Int) -> Int {
        var result = (16 * v + 128) * v + 64
        if v >= 2 {
            let align = v / 7 + 2
            result -= (25 * align - 10) * align - 55
            if v >= 7 { result -= 36 }
        }
        return result
    }

    static func dataCodewords(_ v: Int) -> Int { rawModules(v) / 8 - eccPerBlock[v] * blocks[v] }

    // MARK: Reed–Solomon over GF(2^8), x^8 + x^4 + x^3 + x^2 + 1

    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= Int((y >> UInt8(i)) & 1) * Int(x)
        }
        return UInt8(z)
    }

    static func divisor(_ degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], _ divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for b in data {
            let factor = b ^ result.removeFirst()
            result.append(0)
            for i in result.indices { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }

    /// The data split into blocks, each with its error-correction codewords, interleaved.
    static func withECC(_ data: [UInt8], version v: Int) -> [UInt8] {
        let count = blocks[v]
        let eccLength = eccPerBlock[v]
        let raw = rawModules(v) / 8
        let shortBlocks = count - raw % count
        let shortLength = raw / count
        let div = divisor(eccLength)
        var all: [[UInt8]] = []
        var k = 0
        for i in 0..<count {
            let length = shortLength - eccLength + (i < shortBlocks ? 0 : 1)
            var block = Array(data[k..<k + length])
            k += length
            let ecc = remainder(block, div)
            if i < shortBlocks { block.append(0) }
            all.append(block + ecc)
        }
        var out: [UInt8] = []
        for i in 0..<all[0].count {
            for j in all.indices where i != shortLength - eccLength || j >= shortBlocks { out.append(all[j][i]) }
        }
        return out
    }

    // MARK: The grid

    struct Grid {
        let version: Int
        let size: Int
        var modules: [Bool]
        var function: [Bool]

        init(version: Int) {
            self.version = version
            size = version * 4 + 17
            modules = Array(repeating: false, count: size * size)
            function = Array(repeating: false, count: size * size)
        }

        mutating func set(_ x: Int, _ y: Int, _ dark: Bool) {
            modules[y * size + x] = dark
            function[y * size + x] = true
        }

        mutating func drawFunctionPatterns() {
            for i in 0..<size {
                set(6, i, i % 2 == 0)
                set(i, 6, i % 2 == 0)
            }
            for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
                for dy in -4...4 {
                    for dx in -4...4 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                        let d = max(abs(dx), abs(dy))
                        set(x + dx, y + dy, d != 2 && d != 4)
                    }
                }
            }
            let positions = alignmentPositions()
            let last = positions.count - 1
            for (i, a) in positions.enumerated() {
                for (j, b) in positions.enumerated() where !(i == 0 && j == 0) && !(i == 0 && j == last) && !(i == last && j == 0) {
                    for dy in -2...2 {
                        for dx in -2...2 { set(a + dx, b + dy, max(abs(dx), abs(dy)) != 1) }
                    }
                }
            }
            drawFormat(mask: 0)  // reserved now, written for real after masking
            if version >= 7 {
                var rem = version
                for _ in 0..<12 { rem = (rem << 1) ^ ((rem >> 11) * 0x1F25) }
                let bits = version << 12 | rem
                for i in 0..<18 {
                    let dark = (bits >> i) & 1 == 1
                    let a = size - 11 + i % 3
                    let b = i / 3
                    set(a, b, dark)
                    set(b, a, dark)
                }
            }
        }

        func alignmentPositions() -> [Int] {
            guard version > 1 else { return [] }
            let count = version / 7 + 2
            let step = (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
            var result = [Int](repeating: 6, count: count)
            var pos = size - 7
            for i in 0..<(count - 1) {
                result[count - 1 - i] = pos
                pos -= step
            }
            return result
        }

        mutating func drawFormat(mask: Int) {
            let data = QRCode.levelBits << 3 | mask
            var rem = data
            for _ in 0..<10 { rem = (rem << 1) ^ ((rem >> 9) * 0x537) }
            let bits = (data << 10 | rem) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(8, i, bit(i)) }
            set(8, 7, bit(6))
            set(8, 8, bit(7))
            set(7, 8, bit(8))
            for i in 9..<15 { set(14 - i, 8, bit(i)) }
            for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
            for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
            set(8, size - 8, true)
        }

        mutating func drawCodewords(_ data: [UInt8]) {
            var i = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for vert in 0..<size {
                    for j in 0..<2 {
                        let x = right - j
                        let upward = (right + 1) & 2 == 0
                        let y = upward ? size - 1 - vert : vert
                        if !function[y * size + x] && i < data.count * 8 {
                            modules[y * size + x] = (data[i >> 3] >> UInt8(7 - (i & 7))) & 1 == 1
                            i += 1
                        }
                    }
                }
                right -= 2
            }
        }

        static func inverts(_ mask: Int, _ x: Int, _ y: Int) -> Bool {
            switch mask {
            case 0: (x + y) % 2 == 0
            case 1: y % 2 == 0
            case 2: x % 3 == 0
            case 3: (x + y) % 3 == 0
            case 4: (x / 3 + y / 2) % 2 == 0
            case 5: x * y % 2 + x * y % 3 == 0
            case 6: (x * y % 2 + x * y % 3) % 2 == 0
            default: ((x + y) % 2 + x * y % 3) % 2 == 0
            }
        }

        mutating func applyMask(_ mask: Int) {
            for y in 0..<size {
                for x in 0..<size where !function[y * size + x] && Self.inverts(mask, x, y) { modules[y * size + x].toggle() }
            }
        }

        /// The standard's penalty of the grid under `mask` (with its format bits).
        func penalty(masked mask: Int) -> Int {
            var g = self
            g.applyMask(mask)
            g.drawFormat(mask: mask)
            return g.penalty()
        }

        func penalty() -> Int {
            var result = 0
            let n = size
            func dark(_ x: Int, _ y: Int) -> Bool { modules[y * n + x] }
            for pass in 0..<2 {
                for a in 0..<n {
                    var color = false
                    var run = 0
                    var history = [Int](repeating: 0, count: 7)
                    for b in 0..<n {
                        let d = pass == 0 ? dark(b, a) : dark(a, b)
                        if d == color {
                            run += 1
                            if run == 5 { result += 3 } else if run > 5 { result += 1 }
                        } else {
                            addHistory(run, &history)
                            if !color { result += finderLike(history) * 40 }
                            color = d
                            run = 1
                        }
                    }
                    if color {
                        addHistory(run, &history)
                        run = 0
                    }
                    addHistory(run + n, &history)
                    result += finderLike(history) * 40
                }
            }
            for y in 0..<(n - 1) {
                for x in 0..<(n - 1) {
                    let c = dark(x, y)
                    if c == dark(x + 1, y) && c == dark(x, y + 1) && c == dark(x + 1, y + 1) { result += 3 }
                }
            }
            let total = n * n
            let darkCount = modules.filter { $0 }.count
            result += ((abs(darkCount * 20 - total * 10) + total - 1) / total - 1) * 10
            return result
        }

        func addHistory(_ length: Int, _ history: inout [Int]) {
            let length = history[0] == 0 ? length + size : length  // the light border before the first run
            history.removeLast()
            history.insert(length, at: 0)
        }

        func finderLike(_ h: [Int]) -> Int {
            let n = h[1]
            let core = n > 0 && h[2] == n && h[3] == n * 3 && h[4] == n && h[5] == n
            return (core && h[0] >= n * 4 && h[6] >= n ? 1 : 0) + (core && h[6] >= n * 4 && h[0] >= n ? 1 : 0)
        }
    }
}
