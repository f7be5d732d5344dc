import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Store
import TestSupport
import Testing

@testable import Server

/// The dashboard in a real headless Chromium (ops/browser.py speaks the DevTools protocol):
/// every page renders with no console errors, no script, and each chart's SVG with its title.
@Suite struct BrowserTests {
    struct Report: Decodable {
        struct Chart: Decodable {
            let title: String?
            let desc: String?
            let labelled: Bool
            let role: String?
            let width: Double
        }
        struct PageReport: Decodable {
            let path: String
            let url: String
            let status: Int?
            let console_errors: [String]
            let charts: [Chart]
            let scripts: Int
            let screenshot: String?
            let text: String
        }
        let pages: [PageReport]
    }

    @Test func everyDashboardPageRendersInChromiumWithItsCharts() async throws {
        try await TestDatabase.with { db in
            // Four more loans, so that the price of credit has enough loans to show a mean.
            _ = try await StatWorld.make(
                db,
                extra: (0..<4).map {
                    StatWorld.Loan(
                        uscc: StatWorld.uscc(60 + $0),
                        district: "320614",
                        state: "disbursed",
                        amount: 100_000_000,
                        disbursed: 100_000_000,
                        score: 710 + 20 * $0,
                        bad: false
                    )
                }
            )
            try await Stats.refresh(db.app, today: Day(year: 2026, month: 11, day: 2)!)
            try await buildApplication(try testConfig(db)).test(.live) { client in
                let regulator: String = try await db.owner.scalar("SELECT id::text FROM organisations WHERE kind = 'regulator'")
                let key = try await db.app.withConnection { c in
                    try await Register.issueKey(
                        on: c,
                        logger: db.app.logger,
                        orgId: UUID(uuidString: regulator)!,
                        label: "browser",
                        expiresAt: nil,
                        issuedBy: nil
                    ).secret
                }
                let signed = try await DashboardTests.signIn(client, key: key)
                let cookie = try #require(DashboardTests.cookie(signed))
                let shots = ProcessInfo.processInfo.environment["XYD_SCREENSHOT_DIR"]
                let child = try ChildProcess.launch(
                    "python3",
                    [
                        repositoryRoot.appendingPathComponent("ops/browser.py").path, "--base", "http://127.0.0.1:\(client.port!)",
                        "--cookie", cookie,
                    ] + (shots.map { ["--screenshots", $0] } ?? []) + DashboardTests.pages
                )
                let status = try await child.wait()
                #expect(status == 0, "ops/browser.py: \(child.errorOutput())")
                let report = try JSONDecoder().decode(Report.self, from: Data(child.output().utf8))
                #expect(report.pages.map(\.path) == DashboardTests.pages)
                for page in report.pages {
                    // Signed in (not sent to the sign-in page), rendered, quiet.
                    #expect(page.url == page.path && page.status == 200, "\(page.path): \(page.url) \(String(describing: page.status))")
                    #expect(page.console_errors.isEmpty, "\(page.path): \(page.console_errors)")
                    #expect(page.scripts == 0, "\(page.path)")
                    for chart in page.charts {
                        #expect(
                            chart.role == "img" && chart.labelled && !(chart.title ?? "").isEmpty && !(chart.desc ?? "").isEmpty,
                            "\(page.path)"
                        )
                        #expect(chart.width > 100, "\(page.path): a chart drawn \(chart.width) px wide")
                    }
                }
                let byPath = Dictionary(uniqueKeysWithValues: report.pages.map { ($0.path, $0) })
                #expect(byPath["/dashboard"]?.charts.contains { $0.title?.contains("融资漏斗") == true } == true)
                #expect(byPath["/dashboard"]?.charts.contains { $0.title?.contains("月") == true } == true)
                #expect(byPath["/dashboard/banks"]?.charts.isEmpty == false)
            }
        }
    }
}
