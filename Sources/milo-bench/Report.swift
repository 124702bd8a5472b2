import Foundation

/// Where the benchmarks find milo and the test application.
struct BenchContext: Sendable {
  var milo: String
  var jar: String
  var repoRoot: String
}

/// One line of the summary table.
struct SummaryRow: Sendable {
  var benchmark: String
  var metric: String
  var milo: String
  var baseline: String
  var delta: String
  var ratio: String
  var target: String
  var met: String

  static let header = [
    "benchmark", "metric", "milo", "baseline", "Δ (milo − baseline)", "ratio (milo / baseline)", "target", "met",
  ]
  var cells: [String] { [benchmark, metric, milo, baseline, delta, ratio, target, met] }
}

/// A benchmark's result: a detailed markdown section and its summary rows.
struct BenchReport: Sendable {
  var title: String
  var command: String
  var details: [String]
  var rows: [SummaryRow]
  var residue: [String]
  var loadBefore: Double
  var loadAfter: Double

  var markdown: String {
    var parts = ["### \(title)", "`\(command)`"]
    parts += details
    parts.append(Fmt.table(SummaryRow.header, rows.map(\.cells)))
    parts.append(
      "Load average (1 min) before/after: \(Fmt.num(loadBefore, 2)) / \(Fmt.num(loadAfter, 2)). "
        + (residue.isEmpty
          ? "Cleanup: nothing left behind (containers, supervisors, cgroups, mounts, state and data dirs)."
          : "Cleanup found residue (removed): \(residue.joined(separator: "; "))."))
    return parts.joined(separator: "\n\n")
  }

  /// Prints the section to stdout.
  func print() {
    Swift.print(markdown + "\n")
  }
}

/// "yes"/"no" for a target check.
func met(_ condition: Bool) -> String { condition ? "yes" : "**no**" }
