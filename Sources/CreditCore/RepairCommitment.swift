/// The public credit commitment (信用承诺书) a business signs with a repair application, from a
/// small catalogue of texts (each kept once published: an application stores the text it signed).
public struct RepairCommitment: Sendable, Equatable {
    public let id: String
    public let zh: String
    public let en: String

    /// The texts a business may sign now (the newest first is offered by the portal).
    public static let catalogue: [RepairCommitment] = [
        RepairCommitment(
            id: "repair-2026-1",
            zh: """
                本单位郑重承诺：已依法履行行政处罚决定规定的义务，已纠正失信行为、消除不良影响；所提交的材料真实、准确、完整；\
                今后将严格遵守法律法规，诚信经营。如有违反，愿意承担相应法律责任，并接受将违背承诺的情况记入信用记录。
                """,
            en: """
                We solemnly undertake that we have performed the duties the penalty decision imposed, corrected the dishonest \
                conduct and removed its ill effects; that the materials we submit are true, accurate and complete; and that we \
                will abide by the law and do business honestly. Should we break this undertaking, we accept the legal \
                consequences and that the breach be recorded in our credit file.
                """
        )
    ]

    public static func find(_ id: String) -> RepairCommitment? { catalogue.first { $0.id == id } }
}
