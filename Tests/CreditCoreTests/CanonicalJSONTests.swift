import CreditCore
import Crypto
import Foundation
import Testing

@Suite struct CanonicalJSONTests {
    @Test func membersSortByUTF16CodeUnitsAsInRFC8785() throws {
        // RFC 8785 §3.2.3, the sorting example.
        let input =
            #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let out = try CanonicalJSON.encode(try JSONParser.parse(input))
        #expect(
            out
                == "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"דּ\":\"Hebrew Letter Dalet With Dagesh\"}"
        )
    }

    @Test func whitespaceEscapesAndIntegers() throws {
        let input = "{ \"b\" : [ 1 , -0 , 9007199254740991 ], \"a\" : \"q\\\"\\\\/\\u0001\\u001f\\t\", \"c\": null, \"d\": true }"
        #expect(
            try CanonicalJSON.encode(try JSONParser.parse(input))
                == #"{"a":"q\"\\/\u0001\u001f\t","b":[1,0,9007199254740991],"c":null,"d":true}"#
        )
        #expect(throws: CanonicalJSON.Unsupported.self) { try CanonicalJSON.encode(try JSONParser.parse("[1.5]")) }
        #expect(throws: CanonicalJSON.Unsupported.self) { try CanonicalJSON.encode(try JSONParser.parse("[9007199254740992]")) }
    }

    @Test func aSignedReportVerifiesAndAnyChangedByteFails() throws {
        let signer = ReportSigner(key: Curve25519.Signing.PrivateKey())
        let report: JSONValue = ["number": "XYD-20260615-000001", "score": 712, "name": "南通测试有限公司"]
        let canonical = try CanonicalJSON.encode(report)
        let signature = try signer.sign(canonical)
        let document =
            "{\"report\": \(report.jsonText), \"signature\": {\"alg\": \"Ed25519\", \"key_id\": \"\(signer.keyId)\", \"value\": \"\(signature)\"}}"
        #expect(ReportSigner.verifyDocument(Array(document.utf8), publicKeyBase64: signer.publicKeyBase64).valid)
        // Change the score by one digit, the name by one character, the signature by one bit.
        for tampered in [
            document.replacingOccurrences(of: "712", with: "713"),
            document.replacingOccurrences(of: "测试", with: "测武"),
            document.replacingOccurrences(
                of: "\"value\": \"\(signature.prefix(4))",
                with: "\"value\": \"\(signature.prefix(3))\(signature.dropFirst(3).first == "A" ? "B" : "A")"
            ),
        ] {
            #expect(tampered != document)
            #expect(!ReportSigner.verifyDocument(Array(tampered.utf8), publicKeyBase64: signer.publicKeyBase64).valid)
        }
        // Another key does not verify it.
        let other = ReportSigner(key: Curve25519.Signing.PrivateKey())
        #expect(!ReportSigner.verifyDocument(Array(document.utf8), publicKeyBase64: other.publicKeyBase64).valid)
        #expect(throws: ReportSigner.InvalidKey.self) { try ReportSigner(base64: "c2hvcnQ=") }
    }
}

/// Stored JSON passes through the API's encoder untouched: its key strategy (camelCase →
/// snake_case) applies to our types' keys, never to keys inside stored data.
@Suite struct StoredJSONPassThroughTests {
    @Test func keysInsideStoredDataAreNotConverted() throws {
        struct Body: Encodable {
            let recordId: String
            let data: JSONValue
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let data = try JSONParser.parse(#"{"legalRepName": "张三", "91320602MA1ABC": {"innerKey": 1}}"#)
        let text = String(decoding: try encoder.encode(Body(recordId: "r", data: data)), as: UTF8.self)
        #expect(text == #"{"data":{"91320602MA1ABC":{"innerKey":1},"legalRepName":"张三"},"record_id":"r"}"#)
    }
}
