/// The operator's roster of the city's licensed bank branches, as a CSV file with a header line
/// `licence_no,branch_name,bank_name,district_code` (the 金融许可证 number, the branch, the bank
/// as it is registered in this service, the GB/T 2260 district).
public enum BankRoster {
    public struct Branch: Sendable, Equatable {
        public let licenceNo: String
        public let branchName: String
        public let bankName: String
        public let districtCode: String
    }

    public static let header = ["licence_no", "branch_name", "bank_name", "district_code"]
    /// Branches a roster may list.
    public static let maxBranches = 5_000

    /// Every problem of a roster file, one a line ("line 3: ...").
    public struct Problems: Error, Equatable {
        public let lines: [String]
    }

    /// The branches, or every line's problem.
    public static func parse(_ text: String) -> Result<[Branch], Problems> {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        guard let first = lines.first else {
            return .failure(Problems(lines: ["the file is empty: it needs the header \(header.joined(separator: ","))"]))
        }
        let head = first.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard head == header else { return .failure(Problems(lines: ["line 1: the header must be \(header.joined(separator: ","))"])) }
        guard lines.count - 1 <= maxBranches else {
            return .failure(Problems(lines: ["at most \(maxBranches) branches (the file has \(lines.count - 1))"]))
        }
        var out: [Branch] = []
        var problems: [String] = []
        var seen = Set<String>()
        for (i, line) in lines.enumerated().dropFirst() {
            let n = i + 1
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 4 else {
                problems.append("line \(n): 4 fields separated by commas (no commas inside a field)")
                continue
            }
            if f[0].isEmpty || f[0].count > 40 { problems.append("line \(n): licence_no must be 1 to 40 characters") }
            if f[1].isEmpty || f[1].count > 100 { problems.append("line \(n): branch_name must be 1 to 100 characters") }
            if f[2].isEmpty || f[2].count > 100 { problems.append("line \(n): bank_name must be 1 to 100 characters") }
            if f[3].count != 6 || !f[3].allSatisfy(\.isNumber) { problems.append("line \(n): district_code must be 6 digits (GB/T 2260)") }
            if !f[0].isEmpty, !seen.insert(f[0]).inserted { problems.append("line \(n): licence_no \(f[0]) appears twice") }
            out.append(Branch(licenceNo: f[0], branchName: f[1], bankName: f[2], districtCode: f[3]))
        }
        if out.isEmpty && problems.isEmpty { problems.append("no branches: a roster lists at least one") }
        return problems.isEmpty ? .success(out) : .failure(Problems(lines: problems))
    }
}
