import CreditCore
import Foundation
import Store

/// Where a business produces its signed credit report (`GET /portal/reports`).
enum ReportsPage {
    static func render(lang: Lang, session: Sessions.Session?) -> String {

        let body = """
            <section class="card"><p>\(lang.t("生成一份带编号、经本服务签名的信用报告：可下载 JSON，也可打印；任何人都可在线核验。",
                                              "Produce a numbered credit report signed by this service: download it as JSON or print it; anyone can verify it online."))</p>
            \(PortalHtml.button("/portal/reports", lang.t("生成信用报告", "Produce my credit report"), session: session))</section>
            """
        return body
    }
}
