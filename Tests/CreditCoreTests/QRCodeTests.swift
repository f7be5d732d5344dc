import CreditCore
import Testing

/// The QR code the people page shows for an authenticator: module for module what the reference
/// implementation (Project Nayuki's qrcodegen 1.8, Python) makes of the same text at level M in
/// byte mode, its mask choice too. (Checked once by hand as well: zbar decodes every mask of the
/// version-8 link back to the link.)
@Suite struct QRCodeTests {
    /// Each row's modules as a hexadecimal number (segno's matrix, without the quiet zone).
    static func rows(_ q: QRCode) -> String {
        (0..<q.size).map { y in
            String((0..<q.size).reduce(0) { $0 << 1 | (q[$1, y] ? 1 : 0) }, radix: 16)
        }.joined(separator: ",")
    }

    @Test func aShortTextIsVersionOneWithTheStandardsMask() throws {
        let q = try QRCode.encode("Xinyidai")
        #expect(q.version == 1 && q.size == 21 && q.mask == 2)
        #expect(
            Self.rows(q)
                == "1fcf7f,104341,17515d,17505d,175f5d,105541,1fd57f,1b00,17cd7c,180971,7568e,c200c,65221,17fa,1fcd42,105bec,175509,175930,17528c,104c0c,1fdab2"
        )
    }

    @Test func anAuthenticatorLinkIsVersionEightWithItsVersionBlocks() throws {
        let q = try QRCode.encode(
            "otpauth://totp/Xinyidai:demo.officer?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Xinyidai&algorithm=SHA1&digits=6&period=30"
        )
        #expect(q.version == 8 && q.size == 49 && q.mask == 2)
        #expect(
            Self.rows(q)
                == "1fcb9d006b97f,104577fac1f41,175fc2fc7c35d,1753be9ceba5d,175738fcf385d,105b2e453dc41,1fd555555557f,15c0c56d900,17cbfb7e6bd7c,142b8230c3ad0,6d094d75380f,29d6e035f5d3,55134dc23b6f,153a2b78ca8e2,1f7af9d12e62f,3b18f52853ba,fc773bd3ecce,329cefb940c2,1cc02317ad69,c311d0d1caf3,27c62f6e33e6,1e31f68c71ae8,1ff3d4fdaf5f5,f1064c429511,95e4fd42b955,b1f3c45c111c,15f43dfc49df3,68148b310ca2,1ccdfedced635,1cb7eca4e1be0,1ed79e489dfef,14bc90a46b320,1ce7ddaac1336,21502d06b36a,1a5f2fbac1179,aa836db14f82,196522142fe3d,1932c2f2c382b,8d68f5b34eef,e3b20106f061,1c52bffc27ffc,1bfe45f9b1a,1fcb2e56c7157,105af6c7da712,1750fcfc639f6,175bf742e1b7a,175839f81f42b,1044ff2285d61,1fd7fd293e58f"
        )
    }

    @Test func tooLongIsRefusedAndTheImageHasItsQuietZone() throws {
        #expect(throws: QRCode.Failure.tooLong(214)) { try QRCode.encode(String(repeating: "x", count: 214)) }
        #expect(try QRCode.encode(String(repeating: "x", count: 213)).version == 10)
        let svg = try QRCode.encode("Xinyidai").svg(pixels: 160, label: "二维码")
        #expect(svg.hasPrefix("<svg") && svg.contains("viewBox=\"0 0 29 29\"") && svg.contains("aria-label=\"二维码\""))
        // The top-left finder's corner module sits inside the 4-module quiet zone.
        #expect(svg.contains("M4 4h1v1h-1z"))
    }
}
