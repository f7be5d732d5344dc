import Testing

@testable import CreditCore

@Suite struct JSONParserTests {
    @Test func keepsNumbersAsTextAndAbsentApartFromNull() throws {
        let v = try JSONParser.parse(#"{"a": 12345678901234567890.10, "b": null, "c": [true, false], "d": "税\u00e9\n"}"#)
        #expect(v["a"] == .number("12345678901234567890.10"))
        #expect(v["b"] == .null)
        #expect(v["z"] == nil)
        #expect(v["c"] == .array([.bool(true), .bool(false)]))
        #expect(v["d"] == .string("税é\n"))
    }

    @Test func refusesMalformedInput() {
        for bad in ["{", "{\"a\":}", "[1,]", "01", "\"\\x\"", "{\"a\":1,\"a\":2}", "tru", "1 2", "\"\u{01}\""] {
            #expect(throws: JSONParser.Failure.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#""\ud83d""#) }
    }

    @Test func roundTripsThroughItsOwnText() throws {
        let v = try JSONParser.parse(#"{"b":[1,2.5,"x\"y"],"a":{"k":null}}"#)
        #expect(v.jsonText == #"{"a":{"k":null},"b":[1,2.5,"x\"y"]}"#)
        #expect(try JSONParser.parse(v.jsonText) == v)
    }
}

@Suite struct MoneyTests {
    @Test func parsesYuanToFen() {
        #expect(Money.fen("1234.50") == 123450)
        #expect(Money.fen("0") == 0)
        #expect(Money.fen("7.5") == 750)
        #expect(Money.fen("0.01") == 1)
        #expect(Money.fen("1000000000000") == 100_000_000_000_000)
    }

    @Test func refusesWhatIsNotMoney() {
        for bad in ["", "-1", "1.234", "1.", ".5", "1e3", " 1", "1,000", "１", "10000000000001", "NaN"] {
            #expect(Money.fen(bad) == nil, "\(bad)")
        }
    }

    @Test func printsFenAsYuan() {
        #expect(Money.yuan(fen: 123450) == "1234.50")
        #expect(Money.yuan(fen: 5) == "0.05")
        #expect(Money.yuan(fen: -120) == "-1.20")
    }

    @Test func decimals() {
        #expect(Money.isDecimal("12.345"))
        #expect(Money.isDecimal("0"))
        #expect(!Money.isDecimal("-1"))
        #expect(!Money.isDecimal("1..2"))
        #expect(!Money.isDecimal("1."))
    }
}

@Suite struct DatesTests {
    @Test func daysAreStrict() {
        #expect(Day("2024-02-29") != nil)
        #expect(Day("2023-02-29") == nil)
        #expect(Day("2024-13-01") == nil)
        #expect(Day("2024-1-01") == nil)
        #expect(Day("2024-04-31") == nil)
        #expect(Day("2024-04-30")!.description == "2024-04-30")
    }

    @Test func timestampsNeedAnOffset() {
        #expect(Timestamp.isRFC3339("2025-07-15T10:00:00+08:00"))
        #expect(Timestamp.isRFC3339("2025-07-15T02:00:00.123Z"))
        #expect(!Timestamp.isRFC3339("2025-07-15T10:00:00"))
        #expect(!Timestamp.isRFC3339("2025-07-15 10:00:00+08:00x"))
        #expect(!Timestamp.isRFC3339("2025-07-15T25:00:00Z"))
    }
}

/// Every rule of providers.md with a valid and an invalid case.
@Suite struct ItemValidationTests {
    static let today = Day("2026-11-28")!
    static let uscc = "91320602MA1NTX016C"

    static func item(
        _ dataset: Dataset,
        _ data: [String: JSONValue]?,
        op: String = "upsert",
        recordId: String? = nil,
        uscc: String = uscc,
        version: String = "3"
    ) -> JSONValue {
        var o: [String: JSONValue] = [
            "record_id": .string(recordId ?? (dataset == .enterpriseRegistry ? uscc : "r-1")),
            "version": .number(version), "op": .string(op), "uscc": .string(uscc),
            "updated_at": .string("2025-07-15T10:00:00+08:00"),
        ]
        if let data { o["data"] = .object(JSONObject(data)) }
        return .object(JSONObject(o))
    }

    static let validData: [Dataset: [String: JSONValue]] = [
        .enterpriseRegistry: [
            "name": .string("南通海门家纺有限公司"), "entity_type": .string("farmer_cooperative"),
            "legal_rep_name": .string("张三"), "legal_rep_id_no": .string("11010519491231002X"),
            "established_on": .string("2015-03-01"), "registered_capital": .string("5000000.00"),
            "industry_code": .string("C17"), "district_code": .string("320602"),
            "size_class": .string("small"), "status": .string("active"),
        ],
        .taxFiling: [
            "period": .string("2025-06"), "tax_type": .string("vat"), "declared_revenue": .string("120000.50"),
            "tax_payable": .string("1300"), "tax_paid": .string("1300.00"), "due_on": .string("2025-07-15"), "filed_on": .null,
        ],
        .taxCreditRating: ["year": .number("2024"), "grade": .string("B")],
        .socialInsurance: [
            "period": .string("2025-06"), "insured_headcount": .number("12"), "contribution_due": .string("8000"),
            "contribution_paid": .string("8000"), "in_arrears": .bool(false),
        ],
        .utilityBill: [
            "utility": .string("electricity"), "account_no": .string("E-001"), "period": .string("2025-06"),
            "consumption": .string("15230.5"), "amount_billed": .string("12000"), "amount_paid": .string("0"),
            "due_on": .string("2025-07-10"), "paid_on": .null,
        ],
        .contractPerformance: [
            "contract_no": .string("HT-1"), "role": .string("supplier"), "counterparty_uscc": .string("91350100M000100Y43"),
            "signed_on": .string("2025-01-01"), "amount": .string("100000"), "due_on": .string("2027-01-01"),
            "status": .string("performing"), "settled_on": .null,
        ],
        .administrativeLicence: [
            "licence_no": .string("L-1"), "authority": .string("南通市市场监督管理局"), "title": .string("食品经营许可"),
            "decided_on": .string("2024-05-01"), "valid_until": .string("2029-05-01"),
        ],
        .administrativePenalty: [
            "decision_no": .string("P-1"), "authority": .string("南通市应急管理局"), "decided_on": .string("2025-05-01"),
            "violation": .string("安全生产"), "severity": .string("general"), "fine_amount": .string("20000"),
            "publicity_ends_on": .string("2026-05-01"),
        ],
        .dishonestyListing: [
            "list_type": .string("judgment_defaulter"), "case_no": .string("(2025)苏06执1号"), "authority": .string("南通市中级人民法院"),
            "listed_on": .string("2025-03-01"), "removed_on": .null, "amount_involved": .null,
        ],
    ]

    func validate(
        _ dataset: Dataset,
        _ data: [String: JSONValue]?,
        op: String = "upsert",
        recordId: String? = nil,
        uscc: String = uscc,
        version: String = "3"
    ) -> Result<ValidItem, Rejection> {
        ItemValidator.validate(
            Self.item(dataset, data, op: op, recordId: recordId, uscc: uscc, version: version),
            dataset: dataset,
            today: Self.today
        )
    }

    func rejection(_ r: Result<ValidItem, Rejection>) -> Rejection? {
        if case .failure(let e) = r { return e }
        return nil
    }

    @Test(arguments: Dataset.allCases)
    func aValidItemOfEachDatasetPasses(dataset: Dataset) throws {
        let r = validate(dataset, Self.validData[dataset]!)
        let valid = try r.get()
        #expect(valid.uscc == Self.uscc)
        #expect(valid.version == 3)
    }

    @Test(arguments: Dataset.allCases)
    func everyRequiredFieldIsRequired(dataset: Dataset) {
        for spec in dataset.fields where !spec.nullable {
            var data = Self.validData[dataset]!
            data[spec.name] = nil
            #expect(rejection(validate(dataset, data)) == Rejection("missing_field", field: spec.name, "is required"))
            data[spec.name] = .null
            #expect(rejection(validate(dataset, data))?.code == "missing_field")
        }
    }

    @Test func moneyIsStoredAsFen() throws {
        let v = try validate(.taxFiling, Self.validData[.taxFiling]!).get()
        #expect(v.value("declared_revenue_fen") == .integer(12_000_050))
        #expect(v.value("declared_revenue") == nil)
        #expect(v.value("filed_on") == .null)
    }

    @Test func thePersonalIDIsTakenOutOfTheData() throws {
        let v = try validate(.enterpriseRegistry, Self.validData[.enterpriseRegistry]!).get()
        #expect(v.personalID == "11010519491231002X")
        #expect(!v.dataJSON.contains("11010519491231002X"))
    }

    @Test func envelopeRules() {
        let data = Self.validData[.taxFiling]!
        #expect(rejection(validate(.taxFiling, data, version: "0"))?.code == "invalid_version")
        #expect(rejection(validate(.taxFiling, data, version: "1.5"))?.code == "invalid_version")
        #expect(rejection(validate(.taxFiling, data, op: "merge"))?.code == "invalid_op")
        #expect(rejection(validate(.taxFiling, data, uscc: "91320602MA1NTX016D"))?.code == "uscc_check")
        #expect(rejection(validate(.taxFiling, data, uscc: "91320602MA1NTX026C"))?.field == "uscc")
        #expect(rejection(validate(.taxFiling, nil))?.field == "data")
        #expect(
            rejection(validate(.enterpriseRegistry, Self.validData[.enterpriseRegistry]!, recordId: "91350100M000100Y43"))?.code
                == "record_id_mismatch"
        )
        // Lower case and blanks normalise.
        #expect((try? validate(.taxFiling, data, uscc: "  91320602ma1ntx016c ").get())?.uscc == Self.uscc)
        // A delete needs no data.
        #expect((try? validate(.taxFiling, nil, op: "delete").get())?.op == .delete)
    }

    @Test func fieldRules() {
        func bad(_ dataset: Dataset, _ field: String, _ value: JSONValue) -> String? {
            var data = Self.validData[dataset]!
            data[field] = value
            return rejection(validate(dataset, data))?.code
        }
        #expect(bad(.taxFiling, "tax_paid", .string("-5")) == "invalid_money")
        #expect(bad(.taxFiling, "tax_paid", .number("5")) == "wrong_type")
        #expect(bad(.taxFiling, "tax_paid", .string("5.555")) == "invalid_money")
        #expect(bad(.taxFiling, "tax_type", .string("VAT")) == "unknown_enum")
        #expect(bad(.taxFiling, "period", .string("2025-13")) == "invalid_period")
        #expect(bad(.taxFiling, "due_on", .string("2099-01-01")) == nil)  // a due date may be in the future
        #expect(bad(.taxFiling, "filed_on", .string("2099-01-01")) == "future_date")
        #expect(bad(.taxFiling, "filed_on", .string("2025-02-30")) == "invalid_date")
        #expect(bad(.enterpriseRegistry, "established_on", .string("2027-01-01")) == "future_date")
        #expect(bad(.enterpriseRegistry, "legal_rep_id_no", .string("110105194912310021")) == "invalid_resident_id")
        #expect(bad(.enterpriseRegistry, "industry_code", .string("C1")) == "invalid_industry")
        #expect(bad(.enterpriseRegistry, "district_code", .string("32060")) == "invalid_district")
        #expect(bad(.enterpriseRegistry, "entity_type", .string("cooperative")) == "unknown_enum")
        #expect(bad(.enterpriseRegistry, "name", .string("  ")) == "missing_field")
        #expect(bad(.taxCreditRating, "year", .number("2030")) == "invalid_year")
        #expect(bad(.taxCreditRating, "grade", .string("E")) == "unknown_enum")
        #expect(bad(.socialInsurance, "insured_headcount", .number("-1")) == "invalid_integer")
        #expect(bad(.socialInsurance, "in_arrears", .string("no")) == "wrong_type")
        #expect(bad(.utilityBill, "consumption", .string("-3")) == "invalid_decimal")
        #expect(bad(.utilityBill, "paid_on", .string("2030-01-01")) == "future_date")
        #expect(bad(.contractPerformance, "counterparty_uscc", .string("91350100M000100Y44")) == "uscc_check")
        #expect(bad(.contractPerformance, "signed_on", .string("2030-01-01")) == "future_date")
        #expect(bad(.contractPerformance, "due_on", .string("2030-01-01")) == nil)
        #expect(bad(.administrativeLicence, "valid_until", .string("2040-01-01")) == nil)
        #expect(bad(.administrativeLicence, "decided_on", .string("2030-01-01")) == "future_date")
        #expect(bad(.administrativePenalty, "severity", .string("grave")) == "unknown_enum")
        #expect(bad(.administrativePenalty, "publicity_ends_on", .string("2028-01-01")) == nil)
        #expect(bad(.dishonestyListing, "listed_on", .string("2030-01-01")) == "future_date")
        #expect(bad(.dishonestyListing, "list_type", .string("other")) == "unknown_enum")
        #expect(bad(.dishonestyListing, "amount_involved", .string("1.999")) == "invalid_money")
    }

    @Test func theResidentIDNeverAppearsInAReason() {
        var data = Self.validData[.enterpriseRegistry]!
        data["legal_rep_id_no"] = .string("110105194912310021")
        let r = rejection(validate(.enterpriseRegistry, data))
        #expect(r?.description.contains("110105194912310021") == false)
    }
}

@Suite struct AmountsAsPeopleWriteThemTests {
    @Test func yuanInEveryCommonSpellingAndNothingElse() {
        let fen: [String: Int64] = [
            "500000": 50_000_000, "500,000": 50_000_000, "500000.00": 50_000_000, "¥500,000": 50_000_000, "50万": 50_000_000,
            "50 万元": 50_000_000, "50万元": 50_000_000, "1.5万": 1_500_000, "0.5亿": 5_000_000_000, "1,234.5": 123_450,
            "￥12.34元": 1_234, "12.3456万": 12_345_600, "0.01": 1, "1.50": 150, "0.001万": 1_000, " ¥ 3 万 元 ": 3_000_000,
        ]
        for (text, expected) in fen { #expect(Money.parseYuan(text) == expected, "\(text)") }
        for bad in ["", "abc", "50万万", "1.234", "1,23", "12,3456", "-5", "1e6", "5 0", "50千", "0.0000001万", "１００"] {
            #expect(Money.parseYuan(bad) == nil, "\(bad)")
        }
    }
}
