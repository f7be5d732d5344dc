import CreditCore
import Foundation
import Testing

/// contracts/providers/*.schema.json and the validator's field list stay in step.
@Suite struct ProviderSchemaTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("contracts/providers")

    @Test(arguments: Dataset.allCases)
    func theSchemaNamesEveryFieldWithItsNullability(dataset: Dataset) throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("\(dataset.rawValue).schema.json"))
        let schema = try JSONParser.parse(Array(data))
        let dataSchema = try #require(schema["properties"]?["data"])
        guard case .array(let required)? = dataSchema["required"], case .object(let properties)? = dataSchema["properties"] else {
            Issue.record("no data.required / data.properties")
            return
        }
        #expect(required.compactMap(\.stringValue) == dataset.fields.map(\.name))
        for field in dataset.fields {
            let type = properties[field.name]?["type"]
            let nullable = if case .array(let types)? = type { types.contains(.string("null")) } else { false }
            #expect(nullable == field.nullable, "\(dataset.rawValue).\(field.name)")
        }
    }
}
