import CreditCore
import Foundation
import Store
import TestSupport

/// The business of `CreditWorld` with a record in every dataset a page can show: its register
/// entry, a year of tax returns (some late, some unpaid), a tax credit grade, utility bills,
/// contracts, licences (one expired), a penalty and a past listing — so that every reason,
/// feature and record table of the pages has something to say.
enum RichWorld {
    static func first(_ p: MonthIndex) -> Day { Day(year: p.value / 12, month: p.value % 12 + 1, day: 1)! }

    static let uscc = CreditWorld.uscc

    static func row(_ id: String, _ data: String) -> StageRow {
        StageRow(recordId: id, version: 1, op: .upsert, uscc: uscc, updatedAt: "2026-06-01T00:00:00+08:00", data: data)
    }

    static func seed(_ db: TestDatabase) async throws {
        let today = Day.todayInChina()
        let month = MonthIndex(today)
        try await DisclosureTests.store(
            db,
            .enterpriseRegistry,
            [
                row(
                    uscc,
                    #"{"name":"南通示例纺织有限公司","entity_type":"company","established_on":"2019-04-01","registered_capital_fen":3800000000,"industry_code":"C17","district_code":"320602","size_class":"small","status":"active","legal_rep_name":"张三","legal_rep_id_masked":"320602********1234"}"#
                )
            ]
        )
        try await DisclosureTests.store(
            db,
            .taxFiling,
            (1...12).map { i in
                let p = month.adding(-i)
                let late = i % 4 == 0
                let unpaid = i == 2
                return row(
                    "tax-\(p)",
                    #"{"period":"\#(p)","tax_type":"vat","declared_revenue_fen":115970645,"tax_payable_fen":1500000,"tax_paid_fen":\#(unpaid ? 0 : 1_500_000),"due_on":"\#(first(p.adding(1)).addingDays(14))","filed_on":"\#(first(p.adding(1)).addingDays(late ? 30 : 10))"}"#
                )
            }
        )
        try await DisclosureTests.store(db, .taxCreditRating, [row("rating-2025", #"{"year":2025,"grade":"B"}"#)])
        try await DisclosureTests.store(
            db,
            .utilityBill,
            (1...12).map { i in
                let p = month.adding(-i)
                return row(
                    "el-\(p)",
                    #"{"utility":"electricity","account_no":"EL-1","period":"\#(p)","consumption":\#(1000 + i * 10),"amount_billed_fen":120000,"amount_paid_fen":120000,"due_on":"\#(first(p.adding(1)).addingDays(19))","paid_on":"\#(first(p.adding(1)).addingDays(i == 3 ? 40 : 10))"}"#
                )
            }
        )
        try await DisclosureTests.store(
            db,
            .contractPerformance,
            [
                row(
                    "CT-1",
                    #"{"contract_no":"CT-1","role":"supplier","counterparty_uscc":"91350100M000100Y43","signed_on":"\#(today.addingMonths(-10))","amount_fen":50000000,"due_on":"\#(today.addingMonths(-4))","status":"fulfilled","settled_on":"\#(today.addingMonths(-4))"}"#
                ),
                row(
                    "CT-2",
                    #"{"contract_no":"CT-2","role":"supplier","counterparty_uscc":"91350100M000100Y43","signed_on":"\#(today.addingMonths(-8))","amount_fen":30000000,"due_on":"\#(today.addingMonths(-2))","status":"overdue","settled_on":null}"#
                ),
            ]
        )
        try await DisclosureTests.store(
            db,
            .administrativeLicence,
            [
                row(
                    "LIC-1",
                    #"{"licence_no":"LIC-1","authority":"南通市市场监督管理局","title":"食品经营许可证","decided_on":"2021-03-01","valid_until":"\#(today.addingMonths(-1))"}"#
                ),
                row(
                    "LIC-2",
                    #"{"licence_no":"LIC-2","authority":"南通市生态环境局","title":"排污许可证","decided_on":"2022-05-01","valid_until":"\#(today.addingMonths(20))"}"#
                ),
            ]
        )
        try await DisclosureTests.store(
            db,
            .administrativePenalty,
            [
                row(
                    "P-1",
                    #"{"decision_no":"通环罚〔2026〕1号","authority":"南通市生态环境局","decided_on":"\#(today.addingMonths(-5))","violation":"超标排放污染物","severity":"general","fine_amount_fen":5000000,"publicity_ends_on":"\#(today.addingMonths(7))"}"#
                )
            ]
        )
        try await DisclosureTests.store(
            db,
            .dishonestyListing,
            [
                row(
                    "L-1",
                    #"{"list_type":"wage_arrears","case_no":"(2024)苏06执1号","authority":"南通市人力资源和社会保障局","listed_on":"\#(today.addingMonths(-20))","removed_on":"\#(today.addingMonths(-9))","amount_involved_fen":8800000}"#
                )
            ]
        )
        try await CreditWorld.drain(db.app)
    }
}
