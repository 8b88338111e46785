import Foundation
import Yams

/// Parses YAML with libyaml through Yams, for files outside `FastYAMLParser`'s subset, and turns
/// libyaml's errors into diagnostics at the line and column libyaml reports.
enum YamsComposer {
    /// - Parameter knownShallow: the caller knows the document is nested only a few levels deep
    ///   (tests that compare with the fast parser), so the conservative nesting estimate is skipped.
    static func compose(
        _ bytes: UnsafeBufferPointer<UInt8>,
        into diagnostics: inout DiagnosticCollector,
        knownShallow: Bool = false
    ) -> YAMLDocumentReader.Result {
        // Yams composes recursively: refuse absurd nesting before it can exhaust the stack.
        if !knownShallow, let (mark, estimate) = deepNesting(bytes) {
            diagnostics.error(
                "YAML is nested too deeply here (about \(estimate) levels of indentation, '-' or '[' / '{'); "
                    + "flatten it — devsys files need only a few levels",
                at: mark
            )
            return .failed
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, plainMarker, .default, .utf8)
        } catch let error as YamlError {
            report(error, bytes: bytes, into: &diagnostics)
            return .failed
        } catch {
            diagnostics.error("could not read YAML: \(error)", at: .startOfFile)
            return .failed
        }
        guard let node else { return .empty }
        var document = YAMLDocument(source: UnsafeBufferPointer(start: nil, count: 0))
        var budget = YAMLDocumentReader.maxNodes
        guard convert(node, into: &document, budget: &budget) != nil else {
            diagnostics.error(
                "YAML expands to more than \(YAMLDocumentReader.maxNodes) values through anchors and aliases; "
                    + "write the values out instead of repeating aliases",
                at: .startOfFile
            )
            return .failed
        }
        return .document(document)
    }

    /// Resolves every untagged plain scalar to one private tag, so an explicit `!!str` (which
    /// makes a plain scalar text) can be told from plain scalars. Typing itself is done by
    /// `PlainScalarType`, the same way for both parsers.
    private static let plainMarker: Resolver = {
        // "^" always compiles; the fallback only matters if Yams ever refused it.
        guard let rule = try? Resolver.Rule(plainTag, "^") else { return .basic }
        return Resolver.basic.appending(rule)
    }()
    private static let plainTag = Tag.Name(rawValue: "tag:devsys,2024:plain")

    private static func mark(_ mark: Mark?) -> YAMLMark {
        guard let mark else { return .startOfFile }
        return YAMLMark(line: max(1, mark.line), column: max(1, mark.column))
    }

    private static func isTextTag(_ tag: String) -> Bool {
        tag == Tag.Name.str.rawValue || tag == "!"
    }

    /// Adds `node` and its children to `document`; nil when the budget of nodes runs out.
    private static func convert(_ node: Node, into document: inout YAMLDocument, budget: inout Int) -> YAMLNodeID? {
        budget -= 1
        guard budget >= 0 else { return nil }
        switch node {
        case .scalar(let scalar):
            // Quoted and block scalars, and `!!str` / `!` tags, are text; plain ones are typed by content.
            let isPlain = scalar.style == .plain && !isTextTag(scalar.tag.description)
            return document.addScalar(decoded: Array(scalar.string.utf8), isPlain: isPlain, at: mark(scalar.mark))
        case .mapping(let mapping):
            let id = document.addCollection(.mapping, at: mark(mapping.mark))
            var last: YAMLNodeID = -1
            for (key, value) in mapping {
                guard let keyID = convert(key, into: &document, budget: &budget),
                    let valueID = convert(value, into: &document, budget: &budget)
                else { return nil }
                document.appendPair(key: keyID, value: valueID, to: id, last: &last)
            }
            return id
        case .sequence(let sequence):
            let id = document.addCollection(.sequence, at: mark(sequence.mark))
            var last: YAMLNodeID = -1
            for item in sequence {
                guard let itemID = convert(item, into: &document, budget: &budget) else { return nil }
                document.appendItem(itemID, to: id, last: &last)
            }
            return id
        case .alias(let alias):
            return document.addScalar(decoded: Array("*\(alias.anchor)".utf8), isPlain: false, at: mark(alias.mark))
        }
    }

    private static func report(_ error: YamlError, bytes: UnsafeBufferPointer<UInt8>, into diagnostics: inout DiagnosticCollector) {
        func syntax(_ problem: String, _ context: YamlError.Context?, _ at: Mark) {
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            message += "; check the indentation here, and quote values that contain ': ' or ' #' or start with a special character"
            diagnostics.error(message, at: mark(at))
        }
        switch error {
        case .scanner(let context, let problem, let at, _), .parser(let context, let problem, let at, _):
            syntax(problem, context, at)
        case .composer(let context, let problem, let at, _):
            if problem == "but found another document" {
                diagnostics.error("file holds more than one YAML document (a second '---'); keep one document per file", at: mark(at))
            } else {
                syntax(problem, context, at)
            }
        case .reader(let problem, let offset, let value, _):
            let where_ = TextSurvey.mark(of: offset ?? 0, in: bytes)
            let character = value >= 0 ? String(format: " U+%04X", value) : ""
            diagnostics.error(
                "invalid character\(character): \(problem) in YAML; remove it or write it as an escape in a double-quoted string",
                at: where_
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            diagnostics.error("duplicate key \(names) in one mapping; keep only one of each", at: mark(context.mark))
        default:
            diagnostics.error("could not read YAML: \(error)", at: .startOfFile)
        }
    }

    /// A cheap upper bound of how deep libyaml would nest this document: flow brackets open at
    /// once, plus twice the longest run of indentation and `-`/`?`/`:` indicators at a line's start
    /// (each block level needs a deeper column). Returns where the bound first passes the limit.
    private static func deepNesting(_ bytes: UnsafeBufferPointer<UInt8>) -> (YAMLMark, Int)? {
        var flowDepth = 0
        var maxFlow = 0
        var maxLead = 0
        var lineStart = true
        var lead = 0
        for (offset, b) in bytes.enumerated() {
            if lineStart {
                if b == UInt8(ascii: " ") || b == UInt8(ascii: "-") || b == UInt8(ascii: "?") || b == UInt8(ascii: ":") || b == UInt8(ascii: "\t") {
                    lead += 1
                } else {
                    lineStart = false
                    maxLead = max(maxLead, lead)
                }
            }
            switch b {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flowDepth += 1
                maxFlow = max(maxFlow, flowDepth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flowDepth = max(0, flowDepth - 1)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x85, 0xA8, 0xA9:
                // libyaml also breaks lines at CR, NEL, LS and PS (0x85, 0xA8, 0xA9 end their UTF-8
                // forms; a spurious match only makes the estimate larger).
                lineStart = true
                lead = 0
            default:
                break
            }
            let estimate = maxFlow + 2 * max(maxLead, lead)
            if estimate > YAMLDocumentReader.maxNestingEstimate {
                return (TextSurvey.mark(of: offset, in: bytes), estimate)
            }
        }
        return nil
    }
}
