import CreditCore
import Foundation

/// One simulated enterprise. `risk` (0 safe … 1 failing) is hidden: it only shapes the data
/// the providers publish, and whether a loan to it would default.
public struct SimEnterprise: Sendable {
    public let index: Int
    public let uscc: String
    public let name: String
    public let entityType: String
    public let industryCode: String
    public let districtCode: String
    public let sizeClass: String
    public let established: Day
    public let registeredCapitalFen: Int64
    public let legalRepName: String
    public let legalRepID: String
    public let risk: Double
    /// Would a loan made at the end of the history default? (for later model validation)
    public let wouldDefault: Bool
    /// Rough monthly revenue in fen, by size.
    let monthlyRevenueFen: Int64
    let headcount: Int
}

/// A deterministic synthetic city: Nantong's districts and industries, several years of
/// monthly history per enterprise, all a pure function of the seed.
public struct City: Sendable {
    public let seed: UInt64
    public let enterpriseCount: Int
    /// The last day of the history (providers publish nothing after it).
    public let asOf: Day
    public let months: Int

    public static let defaultMonths = 36

    public init(seed: UInt64, enterprises: Int, asOf: Day, months: Int = defaultMonths) {
        precondition(enterprises > 0 && months > 0)
        self.seed = seed
        self.enterpriseCount = enterprises
        self.asOf = asOf
        self.months = months
    }

    /// The last complete month before `asOf`.
    var lastMonth: Month { asOf.calendarMonth.adding(-1) }
    var firstMonth: Month { lastMonth.adding(-(months - 1)) }

    static let districts: [(String, String, Double)] = [
        ("320602", "崇川", 0.22), ("320612", "通州", 0.16), ("320614", "海门", 0.15), ("320623", "如东", 0.12),
        ("320681", "启东", 0.12), ("320682", "如皋", 0.13), ("320685", "海安", 0.10),
    ]

    /// Industry code, a word for names, a suffix, and weight.
    static let industries: [(String, String, String, Double)] = [
        ("C17", "纺织", "纺织有限公司", 0.14), ("C18", "服饰", "服饰有限公司", 0.08), ("C20", "家纺", "家纺有限公司", 0.08),
        ("C37", "船舶", "船舶配套有限公司", 0.06), ("E47", "建设", "建设工程有限公司", 0.10), ("E48", "建筑", "建筑安装有限公司", 0.05),
        ("C26", "化工", "化工有限公司", 0.06), ("C34", "机械", "机械制造有限公司", 0.09), ("C35", "装备", "装备科技有限公司", 0.05),
        ("F51", "商贸", "商贸有限公司", 0.10), ("A01", "农业", "农业发展有限公司", 0.05), ("A04", "水产", "水产养殖有限公司", 0.04),
        ("H62", "餐饮", "餐饮管理有限公司", 0.05), ("I65", "信息", "信息技术有限公司", 0.05),
    ]

    static let firmWords = [
        "宏达", "恒信", "华盛", "鑫源", "通达", "金海", "永盛", "瑞丰", "海纳", "江海", "天顺", "汇通",
        "中洋", "明珠", "长江", "新港", "联发", "富民", "德润", "佳禾", "利民", "祥和", "盛世", "锦绣",
    ]
    static let surnames = ["张", "王", "李", "陈", "刘", "杨", "黄", "周", "吴", "徐", "孙", "朱", "马", "胡", "顾", "陆", "施", "季", "曹", "沈"]
    static let givenNames = ["伟", "芳", "军", "敏", "强", "丽", "建华", "志刚", "海燕", "国平", "小红", "晓东", "春梅", "卫东", "红霞", "明"]

    public func enterprise(_ i: Int) -> SimEnterprise {
        precondition(i >= 0 && i < enterpriseCount)
        var r = SplitMix64(seed: seed, Stream.enterprise.rawValue, UInt64(i))
        let district = r.weighted(City.districts.map { ($0, $0.2) })
        let entityType = r.weighted([
            ("company", 0.62), ("individual_business", 0.18), ("sole_proprietorship", 0.05), ("partnership", 0.04),
            ("farmer_cooperative", 0.07), ("family_farm", 0.04),
        ])
        let farm = entityType == "farmer_cooperative" || entityType == "family_farm"
        let industry = farm ? r.pick(City.industries.filter { $0.0.hasPrefix("A") }) : r.weighted(City.industries.map { ($0, $0.3) })
        let size =
            farm || entityType == "individual_business"
            ? r.weighted([("micro", 0.8), ("small", 0.2)])
            : r.weighted([("micro", 0.45), ("small", 0.38), ("medium", 0.14), ("large", 0.03)])
        // Risk: most firms are sound; a tail is fragile.
        let risk = min(1, max(0, pow(r.unit(), 2.2) + (size == "micro" ? 0.05 : 0) + (r.chance(0.08) ? 0.35 : 0)))
        let defaultProbability = 0.02 + 0.55 * pow(risk, 1.6)
        let wouldDefault = r.chance(defaultProbability)
        let established = firstMonth.adding(-r.int(0...(12 * 20))).day(r.int(1...28))
        let (revenue, head): (Int64, Int) =
            switch size {
            case "micro": (Int64(r.int(20_000...300_000)) * 100, r.int(1...9))
            case "small": (Int64(r.int(300_000...3_000_000)) * 100, r.int(10...99))
            case "medium": (Int64(r.int(3_000_000...30_000_000)) * 100, r.int(100...299))
            default: (Int64(r.int(30_000_000...200_000_000)) * 100, r.int(300...3000))
            }
        let (authority, typeCode): (Character, Character) =
            switch entityType {
            case "farmer_cooperative": ("N", "3")
            case "individual_business": ("9", "2")
            case "family_farm": ("9", "2")
            default: ("9", "1")
            }
        let uscc = City.makeUSCC(authority: authority, type: typeCode, district: district.0, index: i, r: &r)
        let word = r.pick(City.firmWords) + (r.chance(0.5) ? r.pick(City.firmWords) : "")
        let suffix =
            switch entityType {
            case "farmer_cooperative": "\(industry.1)专业合作社"
            case "family_farm": "家庭农场"
            case "individual_business": "\(industry.1)经营部"
            case "partnership": "\(industry.1)合伙企业"
            default: industry.2
            }
        let name = "南通\(district.1)\(word)\(suffix)" + (i % 7 == 0 ? "（\(i)）" : "")
        let rep = r.pick(City.surnames) + r.pick(City.givenNames)
        let birth = Month(year: asOf.year - r.int(25...65), month: r.int(1...12)).day(r.int(1...28))
        let first17 = district.0 + birth.description.replacingOccurrences(of: "-", with: "") + String(r.int(100...999))
        let repID = first17 + String(ResidentID.checkCharacter(for: first17)!)
        return SimEnterprise(
            index: i,
            uscc: uscc,
            name: name,
            entityType: entityType,
            industryCode: industry.0,
            districtCode: district.0,
            sizeClass: size,
            established: established,
            registeredCapitalFen: Int64(r.int(1...500)) * (size == "micro" ? 1_000_000 : 10_000_000),
            legalRepName: rep,
            legalRepID: repID,
            risk: risk,
            wouldDefault: wouldDefault,
            monthlyRevenueFen: revenue,
            headcount: head
        )
    }

    /// A valid code, unique per index: five base-31 digits of the index and three random characters.
    static func makeUSCC(authority: Character, type: Character, district: String, index: Int, r: inout SplitMix64) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
        precondition(index < 31 * 31 * 31 * 31 * 31)
        var n = index
        var digits: [Character] = []
        for _ in 0..<5 {
            digits.append(alphabet[n % 31])
            n /= 31
        }
        let random = (0..<3).map { _ in alphabet[Int(r.next() % 31)] }
        let body = String(random + digits.reversed())
        return USCC.make(prefix16: "\(authority)\(type)\(district)\(body)")!.value
    }
}
