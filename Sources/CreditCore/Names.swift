/// The codes people see on pages, in words (Chinese, English): districts by GB/T 2260, industries
/// by GB/T 4754-2017, and the closed enumerations of `providers.md`. A page shows the name, never
/// the code; an unknown code falls back to its section's name (industries) or to itself.
public enum Names {
    public typealias Pair = (zh: String, en: String)

    /// Nantong's county-level divisions (GB/T 2260), the codes in force and those of the last
    /// mergers (港闸 into 崇川 and 海门市 into 海门区 in 2020, 海安县 into 海安市 in 2018).
    public static let districts: [String: Pair] = [
        "320600": ("南通市", "Nantong"), "320602": ("崇川区", "Chongchuan District"), "320611": ("港闸区", "Gangzha District"),
        "320612": ("通州区", "Tongzhou District"), "320613": ("崇川区", "Chongchuan District"), "320614": ("海门区", "Haimen District"),
        "320621": ("海安县", "Hai'an County"), "320623": ("如东县", "Rudong County"), "320681": ("启东市", "Qidong"),
        "320682": ("如皋市", "Rugao"), "320684": ("海门市", "Haimen"), "320685": ("海安市", "Hai'an"),
    ]

    /// GB/T 4754-2017 sections.
    public static let industrySections: [String: Pair] = [
        "A": ("农、林、牧、渔业", "agriculture, forestry, animal husbandry and fishery"), "B": ("采矿业", "mining"),
        "C": ("制造业", "manufacturing"), "D": ("电力、热力、燃气及水生产和供应业", "electricity, heat, gas and water"),
        "E": ("建筑业", "construction"), "F": ("批发和零售业", "wholesale and retail"),
        "G": ("交通运输、仓储和邮政业", "transport, storage and post"), "H": ("住宿和餐饮业", "accommodation and catering"),
        "I": ("信息传输、软件和信息技术服务业", "information, software and IT services"), "J": ("金融业", "finance"),
        "K": ("房地产业", "real estate"), "L": ("租赁和商务服务业", "leasing and business services"),
        "M": ("科学研究和技术服务业", "research and technical services"), "N": ("水利、环境和公共设施管理业", "water, environment and public facilities"),
        "O": ("居民服务、修理和其他服务业", "household, repair and other services"), "P": ("教育", "education"),
        "Q": ("卫生和社会工作", "health and social work"), "R": ("文化、体育和娱乐业", "culture, sports and entertainment"),
        "S": ("公共管理、社会保障和社会组织", "public administration and social organisations"), "T": ("国际组织", "international organisations"),
    ]

    /// GB/T 4754-2017 divisions (those a small business in Nantong is most often filed under).
    public static let industryDivisions: [String: Pair] = [
        "A01": ("农业", "agriculture"), "A02": ("林业", "forestry"), "A03": ("畜牧业", "animal husbandry"), "A04": ("渔业", "fishery"),
        "A05": ("农、林、牧、渔专业及辅助性活动", "farming support services"),
        "C13": ("农副食品加工业", "agricultural and food processing"), "C14": ("食品制造业", "food manufacturing"),
        "C17": ("纺织业", "textiles"), "C18": ("纺织服装、服饰业", "garments and apparel"),
        "C19": ("皮革、毛皮、羽毛及其制品和制鞋业", "leather, fur, feathers and footwear"),
        "C20": ("木材加工和木、竹、藤、棕、草制品业", "wood, bamboo, rattan and straw products"), "C21": ("家具制造业", "furniture"),
        "C22": ("造纸和纸制品业", "paper"), "C23": ("印刷和记录媒介复制业", "printing"),
        "C26": ("化学原料和化学制品制造业", "chemicals"), "C27": ("医药制造业", "pharmaceuticals"),
        "C29": ("橡胶和塑料制品业", "rubber and plastics"), "C30": ("非金属矿物制品业", "non-metallic mineral products"),
        "C33": ("金属制品业", "metal products"), "C34": ("通用设备制造业", "general-purpose machinery"),
        "C35": ("专用设备制造业", "special-purpose machinery"), "C36": ("汽车制造业", "motor vehicles"),
        "C37": ("铁路、船舶、航空航天和其他运输设备制造业", "ships, rail, aerospace and other transport equipment"),
        "C38": ("电气机械和器材制造业", "electrical machinery"), "C39": ("计算机、通信和其他电子设备制造业", "computers and electronics"),
        "E47": ("房屋建筑业", "building construction"), "E48": ("土木工程建筑业", "civil engineering"),
        "E49": ("建筑安装业", "building installation"), "E50": ("建筑装饰、装修和其他建筑业", "building decoration and finishing"),
        "F51": ("批发业", "wholesale"), "F52": ("零售业", "retail"), "G54": ("道路运输业", "road transport"),
        "G59": ("装卸搬运和仓储业", "storage and handling"), "H61": ("住宿业", "accommodation"), "H62": ("餐饮业", "catering"),
        "I64": ("互联网和相关服务", "internet services"), "I65": ("软件和信息技术服务业", "software and IT services"),
        "L72": ("商务服务业", "business services"), "M75": ("科技推广和应用服务业", "technology services"),
        "O80": ("居民服务业", "household services"), "O81": ("机动车、电子产品和日用产品修理业", "repair services"),
    ]

    public static let entityTypes: [String: Pair] = [
        "company": ("公司", "company"), "sole_proprietorship": ("个人独资企业", "sole proprietorship"),
        "partnership": ("合伙企业", "partnership"), "individual_business": ("个体工商户", "individual business"),
        "farmer_cooperative": ("农民专业合作社", "farmers' cooperative"), "family_farm": ("家庭农场", "family farm"),
    ]
    public static let sizes: [String: Pair] = [
        "micro": ("微型", "micro"), "small": ("小型", "small"), "medium": ("中型", "medium"), "large": ("大型", "large"),
    ]
    public static let severities: [String: Pair] = ["minor": ("轻微", "minor"), "general": ("一般", "general"), "serious": ("严重", "serious")]
    public static let contractRoles: [String: Pair] = [
        "supplier": ("供方", "supplier"), "buyer": ("需方", "buyer"), "contractor": ("承包方", "contractor"), "client": ("发包方", "client"),
    ]

    /// A district's name (the code itself when unknown).
    public static func district(_ code: String, chinese: Bool) -> String { pick(districts[code], chinese) ?? code }

    /// An industry's name: its division, else its section, else the code.
    public static func industry(_ code: String, chinese: Bool) -> String {
        if let d = pick(industryDivisions[code], chinese) { return d }
        if let s = pick(industrySections[String(code.prefix(1))], chinese) { return s }
        return code
    }

    public static func entityType(_ code: String, chinese: Bool) -> String { pick(entityTypes[code], chinese) ?? code }
    public static func size(_ code: String, chinese: Bool) -> String { pick(sizes[code], chinese) ?? code }

    static func pick(_ p: Pair?, _ chinese: Bool) -> String? { p.map { chinese ? $0.zh : $0.en } }
}
