import Testing

@testable import Server

/// The outside probe locked a bank's genuine key out by sending wrong keys with its prefix (shown
/// in key lists) from many addresses. A prefix's budget now only slows its failed keys; the
/// check before any look-up is the address's alone.
@Suite struct AuthThrottleTests {
    @Test func aKeysPrefixBudgetNeverRefusesTheGenuineKey() throws {
        let throttle = AuthThrottle(burst: 3, perMinute: 1)
        let prefix = "xyd_pw1r93HI"
        var answers: [Bool] = []
        for n in 0..<10 {
            // Each wrong key from another address: counted against the prefix.
            try throttle.check(address: "10.0.0.\(n)")
            answers.append(throttle.failed(address: "10.0.0.\(n)", key: prefix + "WRONG\(n)") != nil)
        }
        #expect(answers == [false, false, false, true, true, true, true, true, true, true], "past the budget, failed keys get 429")
        // The genuine key from a fresh address is looked up: the address has its budget.
        #expect(throws: Never.self) { try throttle.check(address: "10.0.0.99") }
        // One address spends its own budget and is refused before any look-up.
        for _ in 0..<3 { _ = throttle.failed(address: "10.9.9.9", key: nil) }
        #expect(throws: Problem.self) { try throttle.check(address: "10.9.9.9") }
    }
}
