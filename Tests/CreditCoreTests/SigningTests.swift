import Testing

@testable import CreditCore

@Suite struct SigningTests {
    @Test func matchesTheFirstWorkedExample() {
        let s = ProviderSigning.signature(
            secret: "s3cret",
            method: "GET",
            path: "/v1/datasets/tax_filing/changes",
            query: [("limit", "2")],
            timestamp: "1764300000",
            nonce: "abcdef0123456789"
        )
        #expect(s == "fc250b1b3aba648406005154df13a75da420d15a64d4d570dbb951676a295f5e")
    }

    @Test func matchesTheSecondWorkedExampleWithAPathPrefixAndSortedQuery() {
        let query = [("limit", "500"), ("cursor", "c2VxPTUwMA")]
        #expect(ProviderSigning.canonicalQuery(query) == "cursor=c2VxPTUwMA&limit=500")
        let s = ProviderSigning.signature(
            secret: "s3cret",
            method: "GET",
            path: "/tax/v1/datasets/tax_filing/changes",
            query: query,
            timestamp: "1764300000",
            nonce: "abcdef0123456789"
        )
        #expect(s == "5da7d395ed83ad6967d8c5a14c5fa6cf1cf37675f894c69bb87fde742923c269")
    }

    @Test func percentEncodesPerRFC3986() {
        #expect(ProviderSigning.percentEncode("a-b.c_d~e") == "a-b.c_d~e")
        #expect(ProviderSigning.percentEncode("a b/+=") == "a%20b%2F%2B%3D")
        #expect(ProviderSigning.percentEncode("税") == "%E7%A8%8E")
    }

    @Test func noncesAreWellFormed() {
        let n = ProviderSigning.makeNonce()
        #expect(ProviderSigning.isValidNonce(n))
        #expect(!ProviderSigning.isValidNonce("short"))
        #expect(!ProviderSigning.isValidNonce(String(repeating: "a", count: 15) + "-"))
        #expect(ProviderSigning.makeNonce() != n)
    }
}
