#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads one YAML file's values while gathering its diagnostics, so every problem is reported at
/// once. The typed accessors (`text`, `integer`, `fields`…) report what is wrong with a value
/// and return nil; readers go on with the rest of the file.
struct DiagnosticCollector {
    let path: String
    private(set) var diagnostics: [Diagnostic] = []
    private(set) var errorCount = 0
    /// The document being read (empty until a parser produced it).
    var document = YAMLDocument.empty

    init(path: String) {
        self.path = path
    }

    var hasErrors: Bool { errorCount > 0 }

    mutating func error(_ message: String, at mark: YAMLMark) {
        errorCount += 1
        diagnostics.append(Diagnostic(path: path, line: mark.line, column: mark.column, severity: .error, message: message))
    }

    mutating func warning(_ message: String, at mark: YAMLMark) {
        diagnostics.append(Diagnostic(path: path, line: mark.line, column: mark.column, severity: .warning, message: message))
    }
}

/// A value in the document being read.
struct FieldValue {
    var node: YAMLNodeID

    static let root = FieldValue(node: YAMLDocument.root)
}

/// The items of a list, in order.
struct FieldList: Sequence {
    let items: YAMLDocument.Children
    let count: Int

    var isEmpty: Bool { count == 0 }

    func makeIterator() -> Iterator { Iterator(children: items) }

    struct Iterator: IteratorProtocol {
        var children: YAMLDocument.Children

        mutating func next() -> FieldValue? { children.next().map { FieldValue(node: $0) } }
    }
}

/// A text value from a list, with where it is.
struct TextItem {
    var text: String
    var mark: YAMLMark
}

/// The keys a mapping may have; the raw value is the key as written in YAML. Each key type keeps
/// a `YAMLKeyTable` (`static let table = YAMLKeyTable<Self>()`) so that matching a key costs
/// a few byte comparisons — it runs for every key of every spec.
protocol YAMLKey: RawRepresentable<String>, CaseIterable, Equatable, Sendable {
    static var table: YAMLKeyTable<Self> { get }
}

/// The cases of a key type with their spellings as bytes, computed once.
final class YAMLKeyTable<Key: YAMLKey>: Sendable {
    let cases: [Key]
    private let spellings: [[UInt8]]

    init() {
        cases = Array(Key.allCases)
        spellings = cases.map { Array($0.rawValue.utf8) }
        precondition(cases.count <= 16, "MappingFields holds keys with at most 16 cases")
    }

    /// The position of the key spelled by `bytes` among `cases`.
    func ordinal(matching bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = bytes.first else { return nil }
        for (ordinal, spelling) in spellings.enumerated() where spelling.count == bytes.count && spelling[0] == first {
            let same = spelling.withUnsafeBufferPointer { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
            if same { return ordinal }
        }
        return nil
    }

    func ordinal(of key: Key) -> Int {
        for (ordinal, candidate) in cases.enumerated() where candidate == key { return ordinal }
        return 0
    }
}

/// The recognised entries of one mapping, after unknown and duplicate keys were reported.
///
/// The value of each key sits in a fixed slot (no allocation: this runs for every mapping of
/// every spec), indexed by the key's position among its cases.
struct MappingFields<Key: YAMLKey> {
    /// Room for keys with up to 16 cases; nodes are stored +1 (0 is "absent").
    private var slots: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private(set) var isEmpty = true
    /// The mapping.
    let node: YAMLNodeID
    let mark: YAMLMark

    fileprivate init(node: YAMLNodeID, mark: YAMLMark) {
        self.node = node
        self.mark = mark
    }

    subscript(_ key: Key) -> FieldValue? {
        self[ordinal: Key.table.ordinal(of: key)]
    }

    fileprivate subscript(ordinal ordinal: Int) -> FieldValue? {
        let stored = withUnsafeBytes(of: slots) { $0.load(fromByteOffset: ordinal * 4, as: Int32.self) }
        return stored == 0 ? nil : FieldValue(node: stored - 1)
    }

    func contains(_ key: Key) -> Bool { self[key] != nil }

    fileprivate mutating func set(ordinal: Int, value: YAMLNodeID) {
        withUnsafeMutableBytes(of: &slots) { $0.storeBytes(of: value + 1, toByteOffset: ordinal * 4, as: Int32.self) }
        isEmpty = false
    }
}

extension DiagnosticCollector {
    // MARK: Positions and names

    /// Where a diagnostic about `value` points: the value, or its key when the value is empty.
    func mark(_ value: FieldValue) -> YAMLMark {
        let node = document[value.node]
        if document.isEmptyValue(value.node), node.key >= 0 { return document.mark(node.key) }
        return node.mark
    }

    /// Where the key of `value` is (the value itself for list items and the root).
    func keyMark(_ value: FieldValue) -> YAMLMark {
        let node = document[value.node]
        return node.key >= 0 ? document.mark(node.key) : node.mark
    }

    /// `acceptance[1].http.status`; empty for the root.
    func name(_ value: FieldValue) -> String { document.name(value.node) }

    /// The name of the key `value` is under (`status`), or its full name for list items.
    func keyName(_ value: FieldValue) -> String {
        let node = document[value.node]
        return node.key >= 0 ? document.string(node.key) : name(value)
    }

    /// " in acceptance[1].http", or "" at the top of the file.
    private func place(_ node: YAMLNodeID) -> String {
        let name = document.name(node)
        return name.isEmpty ? "" : " in \(name)"
    }

    // MARK: Structure

    /// Reads `value` as a mapping whose keys come from `Key`. Reports a value that is no mapping,
    /// keys that are not text, duplicate keys, and unknown keys (with a "did you mean" hint, the
    /// section a misplaced key belongs in, or the message in `refused` for keys refused on
    /// purpose, such as inline secrets).
    mutating func fields<Key: YAMLKey>(
        of value: FieldValue,
        as _: Key.Type,
        refused: [String: String] = [:],
        placementHints: [String: String] = [:]
    ) -> MappingFields<Key>? {
        let mapping = document[value.node]
        guard mapping.kind == .mapping else {
            let what = mapping.parent < 0 ? "the file" : "'\(name(value))'"
            error("\(what) must be a mapping of keys to values, found \(describe(value.node))", at: mark(value))
            return nil
        }
        var fields = MappingFields<Key>(node: value.node, mark: mapping.mark)
        var child = mapping.first
        while child >= 0 {
            let keyNode = child
            let valueNode = document[keyNode].next
            child = document[valueNode].next
            guard document.kind(keyNode) == .scalar else {
                error("keys must be text, found \(describe(keyNode))\(place(value.node))", at: document.mark(keyNode))
                continue
            }
            guard let ordinal = document.withBytes(keyNode, { Key.table.ordinal(matching: $0) }) else {
                unknownKey(keyNode, in: value.node, as: Key.self, refused: refused, placementHints: placementHints)
                continue
            }
            if let first = fields[ordinal: ordinal] {
                error(
                    "duplicate key '\(Key.table.cases[ordinal].rawValue)'\(place(value.node)) (first at line \(keyMark(first).line)); keep only one",
                    at: document.mark(keyNode)
                )
                continue
            }
            fields.set(ordinal: ordinal, value: valueNode)
        }
        return fields
    }

    private mutating func unknownKey<Key: YAMLKey>(
        _ keyNode: YAMLNodeID,
        in mapping: YAMLNodeID,
        as _: Key.Type,
        refused: [String: String],
        placementHints: [String: String]
    ) {
        let keyText = document.string(keyNode)
        let at = document.mark(keyNode)
        if let reason = refused[keyText] {
            error(reason, at: at)
            return
        }
        let names = Key.allCases.map(\.rawValue)
        if let hint = DidYouMean.suggestion(for: keyText, among: names) {
            error("unknown key '\(keyText)'\(place(mapping)); did you mean '\(hint)'?", at: at)
        } else if let home = placementHints[keyText] {
            error("unknown key '\(keyText)'\(place(mapping)); it belongs under '\(home)'", at: at)
        } else {
            error("unknown key '\(keyText)'\(place(mapping)); the keys here are: \(names.joined(separator: ", "))", at: at)
        }
    }

    /// Reports each key of `required` missing from `fields`.
    mutating func require<Key: YAMLKey>(_ required: [Key], in fields: MappingFields<Key>, what: String? = nil) {
        for key in required where !fields.contains(key) {
            let hint = what.map { "; \($0)" } ?? ""
            error("missing required key '\(key.rawValue)'\(place(fields.node))\(hint)", at: fields.mark)
        }
    }

    /// Reads `value` as a list; reports anything else.
    mutating func list(_ value: FieldValue) -> FieldList? {
        let node = document[value.node]
        guard node.kind == .sequence else {
            if document.isEmptyValue(value.node) {
                error("'\(name(value))' is empty; write '\(keyName(value)): []' for an empty list, or remove the line", at: mark(value))
            } else {
                error("'\(name(value))' must be a list, found \(describe(value.node))", at: mark(value))
            }
            return nil
        }
        return FieldList(items: document.children(value.node), count: Int(node.count))
    }

    /// The pairs of a mapping, as (key, value) nodes; nil (unreported) when `value` is no mapping.
    func pairs(_ value: FieldValue) -> [(key: YAMLNodeID, value: YAMLNodeID)]? {
        guard document.kind(value.node) == .mapping else { return nil }
        var result: [(key: YAMLNodeID, value: YAMLNodeID)] = []
        var child = document[value.node].first
        while child >= 0 {
            let valueNode = document[child].next
            result.append((child, valueNode))
            child = document[valueNode].next
        }
        return result
    }

    // MARK: Scalars

    /// Text: a quoted scalar, or a plain one that YAML does not read as a number, date, yes/no or null.
    mutating func text(_ value: FieldValue, allowEmpty: Bool = false) -> String? {
        guard document.kind(value.node) == .scalar else {
            error("'\(name(value))' must be text, found \(describe(value.node))", at: mark(value))
            return nil
        }
        let type = document.scalarType(value.node)
        guard type == .string else {
            if type == .null {
                error("'\(name(value))' is empty; give it a value or remove the line", at: mark(value))
            } else {
                let raw = document.string(value.node)
                error("'\(name(value))' must be text, found \(type.noun) (\(raw)); put it in quotes: \"\(raw)\"", at: mark(value))
            }
            return nil
        }
        if !allowEmpty && document[value.node].textLength == 0 {
            error("'\(name(value))' is empty; give it a value or remove the line", at: mark(value))
            return nil
        }
        return document.string(value.node)
    }

    /// A whole number in `range` (a number with a zero fraction, like `900.0`, counts).
    mutating func integer(_ value: FieldValue, in range: ClosedRange<Int>) -> Int? {
        guard document.kind(value.node) == .scalar else {
            error("'\(name(value))' must be a whole number, found \(describe(value.node))", at: mark(value))
            return nil
        }
        let number: Int
        switch document.scalarType(value.node) {
        case .int(let int):
            number = int
        case .float(let double) where double.rounded() == double && abs(double) < 1e15:
            number = Int(double)
        case .bigInt:
            error(
                "'\(name(value))' is \(document.string(value.node)), too large; use a number from \(range.lowerBound) to \(range.upperBound)",
                at: mark(value)
            )
            return nil
        case .null:
            error("'\(name(value))' is empty; give it a whole number or remove the line", at: mark(value))
            return nil
        case let type:
            let quoted = document[value.node].isPlain ? "" : " (remove the quotes)"
            error("'\(name(value))' must be a whole number, found \(type.noun) '\(document.string(value.node))'\(quoted)", at: mark(value))
            return nil
        }
        guard range.contains(number) else {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
            error("'\(name(value))' is \(number); it must be \(bound)", at: mark(value))
            return nil
        }
        return number
    }

    /// A number (whole or not) greater than `minimumExclusive` and at most `maximum`.
    mutating func number(_ value: FieldValue, above minimumExclusive: Double, atMost maximum: Double) -> Double? {
        guard document.kind(value.node) == .scalar else {
            error("'\(name(value))' must be a number, found \(describe(value.node))", at: mark(value))
            return nil
        }
        let number: Double
        switch document.scalarType(value.node) {
        case .int(let int): number = Double(int)
        case .float(let double): number = double
        case .bigInt: number = .infinity
        case .null:
            error("'\(name(value))' is empty; give it a number or remove the line", at: mark(value))
            return nil
        case let type:
            let quoted = document[value.node].isPlain ? "" : " (remove the quotes)"
            error("'\(name(value))' must be a number, found \(type.noun) '\(document.string(value.node))'\(quoted)", at: mark(value))
            return nil
        }
        guard number > minimumExclusive, number <= maximum else {
            error(
                "'\(name(value))' is \(document.string(value.node)); it must be more than \(format(minimumExclusive)) and at most \(format(maximum))",
                at: mark(value)
            )
            return nil
        }
        return number
    }

    /// `true` / `false` (YAML 1.1 also reads yes/no and on/off as these).
    mutating func bool(_ value: FieldValue) -> Bool? {
        if document.kind(value.node) == .scalar, case .bool(let bool) = document.scalarType(value.node) { return bool }
        error("'\(name(value))' must be true or false, found \(describe(value.node))", at: mark(value))
        return nil
    }

    /// One of the cases of `E`, by raw value.
    mutating func choice<E: RawRepresentable<String> & CaseIterable>(_ value: FieldValue, of _: E.Type) -> E? {
        guard document.kind(value.node) == .scalar, document.scalarType(value.node) == .string else {
            let options = E.allCases.map(\.rawValue)
            error("'\(name(value))' must be one of \(options.joined(separator: ", ")), found \(describe(value.node))", at: mark(value))
            return nil
        }
        let text = document.string(value.node)
        guard let choice = E(rawValue: text) else {
            let options = E.allCases.map(\.rawValue)
            error(
                "'\(name(value))' is '\(text)'; it must be one of \(options.joined(separator: ", "))" + DidYouMean.hint(for: text, among: options),
                at: mark(value)
            )
            return nil
        }
        return choice
    }

    /// A list of text items, each with its position.
    mutating func textList(_ value: FieldValue) -> [TextItem]? {
        guard let items = list(value) else { return nil }
        var result: [TextItem] = []
        result.reserveCapacity(items.count)
        var ok = true
        for item in items {
            if let text = text(item) { result.append(TextItem(text: text, mark: mark(item))) } else { ok = false }
        }
        return ok ? result : nil
    }

    /// A list of text items.
    mutating func texts(_ value: FieldValue) -> [String]? {
        guard let items = list(value) else { return nil }
        var result: [String] = []
        result.reserveCapacity(items.count)
        var ok = true
        for item in items {
            if let text = text(item) { result.append(text) } else { ok = false }
        }
        return ok ? result : nil
    }

    // MARK: Words

    /// "a number (900)", "a list", "a mapping", "nothing".
    func describe(_ node: YAMLNodeID) -> String {
        switch document.kind(node) {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar:
            let type = document.scalarType(node)
            let text = document.string(node)
            switch type {
            case .null: return "nothing"
            case .string:
                let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
                return "text '\(shown)'"
            default: return "\(type.noun) (\(text))"
            }
        }
    }

    private func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
