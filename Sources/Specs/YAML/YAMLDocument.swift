/// A position in a YAML file: 1-based line and column (columns count Unicode scalars, as libyaml does).
struct YAMLMark: Hashable, Sendable {
    var line: Int
    var column: Int

    static let startOfFile = YAMLMark(line: 1, column: 1)
}

/// A node of a `YAMLDocument`, by its index.
typealias YAMLNodeID = Int32

/// A parsed YAML document that remembers where every node came from, so each diagnostic can
/// point at it.
///
/// Built for speed, since every spec of every push goes through it: all nodes live in one array
/// (parents before children, siblings linked), scalar text is a byte range of one buffer (the
/// file itself, then any text that had to be decoded), and a node knows its parent and key, so
/// the name users know a value by (`acceptance[1].http.status`) is only assembled for a message.
/// No tags or anchors: aliases are expanded, and scalars keep only whether they were written plain
/// — the one style difference that changes meaning (`200` is a number, `"200"` is text).
struct YAMLDocument: Sendable {
    enum Kind: UInt8, Sendable {
        case scalar, mapping, sequence
    }

    struct Node: Sendable {
        var kind: Kind
        /// Written without quotes or block indicators, so YAML's implicit typing applies (`PlainScalarType`).
        var isPlain: Bool
        var line: Int32
        var column: Int32
        /// -1 for the root.
        var parent: YAMLNodeID = -1
        /// For a mapping value: its key's node; -1 otherwise.
        var key: YAMLNodeID = -1
        /// Position among the parent's items, or pairs.
        var ordinal: Int32 = 0
        /// First child (a mapping's children alternate key, value, key, value…); -1 when none.
        var first: YAMLNodeID = -1
        /// Next sibling; -1 for the last.
        var next: YAMLNodeID = -1
        /// Items of a sequence, or pairs of a mapping.
        var count: Int32 = 0
        /// A scalar's text: `text[textStart ..< textStart + textLength]`.
        var textStart: Int32 = 0
        var textLength: Int32 = 0

        var mark: YAMLMark { YAMLMark(line: Int(line), column: Int(column)) }
    }

    private(set) var nodes: [Node] = []
    /// The file's bytes, then decoded text.
    private(set) var text: [UInt8]

    /// A document over `source`; nodes are added by a parser.
    init(source: UnsafeBufferPointer<UInt8>) {
        text = []
        text.reserveCapacity(source.count + 64)
        text.append(contentsOf: source)
        nodes.reserveCapacity(source.count / 12 + 4)
    }

    static let root: YAMLNodeID = 0

    /// A document with no nodes (shared, so holding one costs nothing).
    static let empty = YAMLDocument(source: UnsafeBufferPointer(start: nil, count: 0))

    subscript(_ id: YAMLNodeID) -> Node {
        nodes[Int(id)]
    }

    // MARK: Building

    /// A scalar whose text is `length` bytes of the source at `start`.
    mutating func addScalar(sourceStart start: Int, length: Int, isPlain: Bool, at mark: YAMLMark) -> YAMLNodeID {
        nodes.append(
            Node(
                kind: .scalar,
                isPlain: isPlain,
                line: Int32(mark.line),
                column: Int32(mark.column),
                textStart: Int32(start),
                textLength: Int32(length)
            )
        )
        return YAMLNodeID(nodes.count - 1)
    }

    /// A scalar whose text had to be decoded (escapes, block scalars, libyaml's values).
    mutating func addScalar<C: Collection>(decoded: C, isPlain: Bool, at mark: YAMLMark) -> YAMLNodeID where C.Element == UInt8 {
        let start = text.count
        text.append(contentsOf: decoded)
        nodes.append(
            Node(
                kind: .scalar,
                isPlain: isPlain,
                line: Int32(mark.line),
                column: Int32(mark.column),
                textStart: Int32(start),
                textLength: Int32(text.count - start)
            )
        )
        return YAMLNodeID(nodes.count - 1)
    }

    mutating func addCollection(_ kind: Kind, at mark: YAMLMark) -> YAMLNodeID {
        nodes.append(Node(kind: kind, isPlain: false, line: Int32(mark.line), column: Int32(mark.column)))
        return YAMLNodeID(nodes.count - 1)
    }

    /// Links `child` as the next item of the sequence `container`; `last` is its last child so far.
    mutating func appendItem(_ child: YAMLNodeID, to container: YAMLNodeID, last: inout YAMLNodeID) {
        let ordinal = nodes[Int(container)].count
        link(child, to: container, last: &last, key: -1, ordinal: ordinal)
        nodes[Int(container)].count += 1
    }

    /// Links `key` and `value` as the next pair of the mapping `container`.
    mutating func appendPair(key: YAMLNodeID, value: YAMLNodeID, to container: YAMLNodeID, last: inout YAMLNodeID) {
        let ordinal = nodes[Int(container)].count
        link(key, to: container, last: &last, key: -1, ordinal: ordinal)
        link(value, to: container, last: &last, key: key, ordinal: ordinal)
        nodes[Int(container)].count += 1
    }

    private mutating func link(_ child: YAMLNodeID, to container: YAMLNodeID, last: inout YAMLNodeID, key: YAMLNodeID, ordinal: Int32) {
        nodes[Int(child)].parent = container
        nodes[Int(child)].key = key
        nodes[Int(child)].ordinal = ordinal
        if last < 0 {
            nodes[Int(container)].first = child
        } else {
            nodes[Int(last)].next = child
        }
        last = child
    }

    // MARK: Reading

    func kind(_ id: YAMLNodeID) -> Kind { nodes[Int(id)].kind }

    func mark(_ id: YAMLNodeID) -> YAMLMark { nodes[Int(id)].mark }

    /// Whether this is the empty value of `key:` with nothing after it.
    func isEmptyValue(_ id: YAMLNodeID) -> Bool {
        let node = nodes[Int(id)]
        return node.kind == .scalar && node.isPlain && node.textLength == 0
    }

    /// A scalar's text (empty for collections).
    func string(_ id: YAMLNodeID) -> String {
        let node = nodes[Int(id)]
        return text.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[Int(node.textStart)..<Int(node.textStart + node.textLength)]), as: UTF8.self)
        }
    }

    /// Calls `body` with a scalar's text as bytes.
    func withBytes<R>(_ id: YAMLNodeID, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let node = nodes[Int(id)]
        return text.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[Int(node.textStart)..<Int(node.textStart + node.textLength)])) }
    }

    /// What a scalar means: its YAML 1.1 type when plain, text otherwise.
    func scalarType(_ id: YAMLNodeID) -> PlainScalarType {
        guard nodes[Int(id)].isPlain else { return .string }
        return withBytes(id) { PlainScalarType.resolve(bytes: $0) }
    }

    /// The items of a sequence, or the keys and values of a mapping in turn.
    func children(_ id: YAMLNodeID) -> Children { Children(document: self, upcoming: nodes[Int(id)].first) }

    struct Children: Sequence, IteratorProtocol {
        let document: YAMLDocument
        var upcoming: YAMLNodeID

        mutating func next() -> YAMLNodeID? {
            guard upcoming >= 0 else { return nil }
            defer { upcoming = document.nodes[Int(upcoming)].next }
            return upcoming
        }
    }

    /// The name users know a value by: `acceptance[1].http.status`; empty for the root.
    func name(_ id: YAMLNodeID) -> String {
        let node = nodes[Int(id)]
        guard node.parent >= 0 else { return "" }
        let parentName = name(node.parent)
        if node.key >= 0 {
            let key = string(node.key)
            return parentName.isEmpty ? key : "\(parentName).\(key)"
        }
        if nodes[Int(node.parent)].kind == .sequence { return "\(parentName)[\(node.ordinal)]" }
        return parentName  // a key: named after its mapping
    }
}
