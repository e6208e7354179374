import Foundation

/// One line of the benchmark's table: a measured figure, the anchor it is judged against, the ratio,
/// the target and whether it is met.
struct Figure: Codable, Sendable {
    var name: String
    var value: Double?
    var unit: String
    /// What the figure is compared with (another measured figure, or a fixed bound).
    var anchor: String
    var anchorValue: Double?
    /// value / anchorValue, for the figures judged as a multiple of an anchor.
    var ratio: Double?
    var target: String
    var met: Bool?
    var note: String = ""
}

/// The whole run: the machine, the command and the figures, printed as a table and written as JSON.
struct Report: Codable, Sendable {
    var command: String
    var date: String
    var machine: String
    var quick: Bool
    var figures: [Figure] = []

    func table() -> String {
        func number(_ value: Double?) -> String {
            guard let value else { return "—" }
            return value >= 100 ? String(format: "%.0f", value) : String(format: "%.2f", value)
        }
        var lines = [
            "| figure | value | anchor | ratio | target | met? |",
            "|---|---|---|---|---|---|",
        ]
        for figure in figures {
            let anchor = figure.anchorValue.map { "\(figure.anchor) = \(number($0))" } ?? figure.anchor
            let met = figure.met.map { $0 ? "yes" : "**no**" } ?? "—"
            let note = figure.note.isEmpty ? "" : " (\(figure.note))"
            lines.append("| \(figure.name)\(note) | \(number(figure.value)) \(figure.unit) | \(anchor) | \(number(figure.ratio)) | \(figure.target) | \(met) |")
        }
        return lines.joined(separator: "\n")
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
