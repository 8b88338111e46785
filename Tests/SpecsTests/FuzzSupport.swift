import Foundation
import TestSupport

@testable import Specs

/// Turns valid YAML files into broken, odd and hostile ones: the kinds of damage editors, merges
/// and attackers produce.
enum Mutator {
    static let punctuation: [UInt8] = Array(":-[]{},#&*!|>'\"%@` \n\t?~\r".utf8)
    static let snippets: [String] = [
        "\n  ", ": ", "- ", "[", "]", "{", "}", "'", "\"", "&a ", "*a", "!!str ", "!!int ", "|\n", ">-\n", "|+\n", "---\n", "...\n",
        "\t", "\r\n", "é", "\u{85}", "\u{2028}", "\u{FEFF}", "#", " #", "\\", "\\u12", "\\x4", "? ", ": -", "  - a: b\n", "\n- ", "{a: [b, {c: d}]}",
        "'it''s'", "\"a\\\"b\"", "yes", "~", "0x1F", "1_000", "2024-01-01", "..", "/etc/passwd", "\u{0}", "\u{7}", "\u{1B}[31m",
        "<<: *a\n", "%YAML 1.1\n", "&x [*x]", String(repeating: "[", count: 300), String(repeating: "- ", count: 150),
    ]

    static func mutate(_ input: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        let rounds = Int.random(in: 1...4, using: &rng)
        for _ in 0..<rounds {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[position] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes[position] = punctuation.randomElement(using: &rng)!
            case 2:
                bytes.insert(contentsOf: Array(snippets.randomElement(using: &rng)!.utf8), at: position)
            case 3 where !bytes.isEmpty:
                let length = Int.random(in: 1...min(40, bytes.count - position), using: &rng)
                bytes.removeSubrange(position..<(position + length))
            case 4:
                bytes = Array(bytes.prefix(position))
            case 5 where !bytes.isEmpty:
                // Duplicate a stretch (a line, or a bit of one).
                let length = Int.random(in: 1...min(120, bytes.count - position), using: &rng)
                let chunk = Array(bytes[position..<(position + length)])
                let target = Int.random(in: 0...bytes.count, using: &rng)
                bytes.insert(contentsOf: chunk, at: target)
            case 6:
                // Swap two lines.
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
                if lines.count > 2 {
                    let a = Int.random(in: 0..<lines.count, using: &rng)
                    let b = Int.random(in: 0..<lines.count, using: &rng)
                    lines.swapAt(a, b)
                    bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
                }
            case 7:
                // Re-indent a line.
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
                if !lines.isEmpty {
                    let index = Int.random(in: 0..<lines.count, using: &rng)
                    if Bool.random(using: &rng) {
                        lines[index].insert(contentsOf: Array(repeating: UInt8(ascii: " "), count: Int.random(in: 1...3, using: &rng)), at: 0)
                    } else {
                        lines[index] = Array(lines[index].drop { $0 == UInt8(ascii: " ") })
                    }
                    bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
                }
            default:
                if !bytes.isEmpty { bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng) }
            }
        }
        return bytes
    }

    static func randomBytes(using rng: inout SeededGenerator) -> [UInt8] {
        let count = Int.random(in: 0...300, using: &rng)
        let printable = Bool.random(using: &rng)
        return (0..<count).map { _ in
            printable ? punctuation.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
        }
    }
}

/// Whether the fast parser's tree equals libyaml's, node by node, with positions. Empty values
/// are compared without positions (libyaml places them at the next token).
func sameTree(_ a: YAMLDocument, _ x: YAMLNodeID, _ b: YAMLDocument, _ y: YAMLNodeID) -> Bool {
    let m = a[x]
    let n = b[y]
    guard m.kind == n.kind, m.count == n.count else { return false }
    if m.kind == .scalar {
        guard m.isPlain == n.isPlain, a.string(x) == b.string(y) else { return false }
        return a.isEmptyValue(x) || m.mark == n.mark
    }
    guard m.mark == n.mark else { return false }
    return zip(a.children(x), b.children(y)).allSatisfy { sameTree(a, $0, b, $1) } && Array(a.children(x)).count == Array(b.children(y)).count
}

enum Agreement: Equatable {
    /// The fast parser left the file to libyaml.
    case declined
    case agreed
    case disagreed(String)
}

/// Whether the fast parser reads `bytes` as libyaml does (when it reads them at all).
func fastParserAgreement(_ bytes: [UInt8]) -> Agreement {
    bytes.withUnsafeBufferPointer { buffer -> Agreement in
        let survey = TextSurvey(buffer)
        guard survey.problem == nil, survey.fitsFastParser else { return .declined }
        let fast = FastYAMLParser.parse(buffer, isASCII: survey.isASCII)
        if case .unsupported = fast { return .declined }
        var diagnostics = DiagnosticCollector(path: "x.yaml")
        // The fast parser nests at most 64 levels, so libyaml is safe to ask without the estimate.
        let reference = YamsComposer.compose(buffer, into: &diagnostics, knownShallow: true)
        switch (fast, reference) {
        case (.empty, .empty):
            return .agreed
        case (.document(let mine), .document(let theirs)):
            return sameTree(mine, 0, theirs, 0)
                ? .agreed : .disagreed("trees differ:\nfast: \(dump(mine, 0))\nlibyaml: \(dump(theirs, 0))")
        case (.document(let mine), .failed)
        where hasDuplicateKeys(mine, 0) && diagnostics.diagnostics.count == 1
            && diagnostics.diagnostics[0].message.hasPrefix("duplicate key"):
            // Yams refuses duplicate keys while composing; devsys reports them while reading fields.
            return .agreed
        default:
            return .disagreed("fast parser: \(fast), libyaml: \(reference) \(diagnostics.diagnostics)")
        }
    }
}

func hasDuplicateKeys(_ document: YAMLDocument, _ node: YAMLNodeID) -> Bool {
    let children = Array(document.children(node))
    if document.kind(node) == .mapping {
        var seen: Set<String> = []
        for key in stride(from: 0, to: children.count, by: 2) where document.kind(children[key]) == .scalar {
            if !seen.insert("\(document[children[key]].isPlain)\(document.string(children[key]))").inserted { return true }
        }
    }
    return children.contains { hasDuplicateKeys(document, $0) }
}

func dump(_ document: YAMLDocument, _ node: YAMLNodeID) -> String {
    let n = document[node]
    let at = "@\(n.line):\(n.column)"
    let children = Array(document.children(node))
    switch n.kind {
    case .scalar: return (n.isPlain ? "" : "q") + "\(document.string(node).debugDescription)\(at)"
    case .sequence: return "[\(children.map { dump(document, $0) }.joined(separator: ", "))]\(at)"
    case .mapping:
        let pairs = stride(from: 0, to: children.count, by: 2).map { "\(dump(document, children[$0])): \(dump(document, children[$0 + 1]))" }
        return "{\(pairs.joined(separator: ", "))}\(at)"
    }
}
