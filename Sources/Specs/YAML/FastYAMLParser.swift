/// A YAML parser for the part of YAML that configuration files are written in: block mappings and
/// sequences, flow `{…}` / `[…]` collections, plain, quoted and `|` / `>` block scalars, comments.
///
/// It exists for speed — libyaml through Yams costs ~250 µs for a 30-line spec, this ~3 µs —
/// and it is deliberately timid: the moment it meets anything outside that subset (anchors,
/// tags, multi-line plain or quoted scalars, tabs, CR line ends, documents markers, complex keys)
/// or anything malformed, it gives up with `Unsupported`, and the caller parses the file again
/// with libyaml (`YamsComposer`), which is the authority on both meaning and error messages.
/// Where it does answer, it answers exactly what libyaml would (tested by differential fuzzing
/// against Yams in `YAMLParserAgreementTests`), including line and column of every node.
struct FastYAMLParser {
    struct Unsupported: Error {}

    enum Outcome {
        /// The file holds no document (empty, or only comments).
        case empty
        case document(YAMLDocument)
        /// Outside the subset, or malformed: ask libyaml.
        case unsupported
    }

    /// Deeper than this and the parser gives up (task specs need 4 levels).
    static let maxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private let isASCII: Bool
    private var pos = 0
    private var lineStart = 0
    private var line = 0
    /// The column of the first character of the current content line (its indentation).
    private var indent = 0
    private var atEnd = false
    private var depth = 0
    private var document: YAMLDocument
    /// The start of the line last checked for non-ASCII bytes, and what was found.
    private var asciiCheckedLine = -1
    private var lineIsASCII = true

    /// `bytes` must be valid UTF-8 without NUL bytes (`YAMLDocumentReader` checks that first);
    /// `isASCII` lets columns be counted in bytes.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, isASCII: Bool) -> Outcome {
        var parser = FastYAMLParser(bytes: bytes, isASCII: isASCII)
        do {
            guard try parser.skipToContent() else { return .empty }
            if parser.isBlockEntry() {
                _ = try parser.blockSequence(indent: parser.indent)
            } else if parser.startsBlockMappingKey() {
                _ = try parser.blockMapping(indent: parser.indent)
            } else {
                throw Unsupported()
            }
            guard parser.atEnd else { throw Unsupported() }
            return .document(parser.document)
        } catch {
            return .unsupported
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, isASCII: Bool) {
        self.bytes = bytes
        self.isASCII = isASCII
        self.document = YAMLDocument(source: bytes)
    }

    // MARK: Bytes and positions

    /// The byte at `index`, or 0 past the end (the input has no NUL bytes, so 0 means "end").
    @inline(__always)
    private func byte(_ index: Int) -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    @inline(__always)
    private static func isBlankOrEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == 0
    }

    private mutating func mark(at index: Int) -> YAMLMark {
        if isASCII { return YAMLMark(line: line + 1, column: index - lineStart + 1) }
        // Most lines of a file with some non-ASCII text are ASCII still: check each line once.
        if asciiCheckedLine != lineStart {
            asciiCheckedLine = lineStart
            var i = lineStart
            while i < bytes.count && bytes[i] != UInt8(ascii: "\n") && bytes[i] < 0x80 { i += 1 }
            lineIsASCII = i == bytes.count || bytes[i] == UInt8(ascii: "\n")
        }
        if lineIsASCII { return YAMLMark(line: line + 1, column: index - lineStart + 1) }
        var column = 1
        var i = lineStart
        while i < index {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return YAMLMark(line: line + 1, column: column)
    }

    private mutating func plainScalar(_ start: Int, _ end: Int) -> YAMLNodeID {
        document.addScalar(sourceStart: start, length: end - start, isPlain: true, at: mark(at: start))
    }

    private mutating func emptyScalar(at mark: YAMLMark) -> YAMLNodeID {
        document.addScalar(sourceStart: 0, length: 0, isPlain: true, at: mark)
    }

    /// Characters that cannot start a plain scalar here (`-`, `?` and `:` can, when followed by a
    /// non-blank, but that is rare enough to leave to libyaml — except `-` before a digit or letter).
    private func cannotStartPlain(_ index: Int) -> Bool {
        switch byte(index) {
        case UInt8(ascii: "-"):
            let next = byte(index + 1)
            return
                !((next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) || (next | 0x20 >= UInt8(ascii: "a") && next | 0x20 <= UInt8(ascii: "z")))
        case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
            UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
            UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"),
            UInt8(ascii: " "), UInt8(ascii: "\n"), 0:
            return true
        default:
            return false
        }
    }

    // MARK: Lines

    /// From the start of a line, skips blank and comment lines and stops at the first character of
    /// the next content line (setting `indent`). Returns false at the end of the input.
    private mutating func skipToContent() throws(Unsupported) -> Bool {
        while true {
            while byte(pos) == UInt8(ascii: " ") { pos += 1 }
            let b = byte(pos)
            if b == 0 {
                atEnd = true
                return false
            }
            if b == UInt8(ascii: "\n") {
                pos += 1
                line += 1
                lineStart = pos
                continue
            }
            if b == UInt8(ascii: "#") {
                while byte(pos) != UInt8(ascii: "\n") && byte(pos) != 0 { pos += 1 }
                continue
            }
            if pos == lineStart {
                // Document markers `---` / `...` and directives: libyaml's business.
                if (b == UInt8(ascii: "-") || b == UInt8(ascii: ".")) && byte(pos + 1) == b && byte(pos + 2) == b { throw Unsupported() }
                if b == UInt8(ascii: "%") { throw Unsupported() }
            }
            indent = pos - lineStart
            return true
        }
    }

    /// After a value: the rest of the line must be blank or a comment; then moves to the next content line.
    private mutating func finishLine() throws(Unsupported) {
        let before = pos
        while byte(pos) == UInt8(ascii: " ") { pos += 1 }
        if byte(pos) == UInt8(ascii: "#") {
            // libyaml accepts `"a"#b` as a comment; YAML does not. Leave the disagreement to libyaml.
            guard pos > before || pos == lineStart else { throw Unsupported() }
            while byte(pos) != UInt8(ascii: "\n") && byte(pos) != 0 { pos += 1 }
        }
        guard byte(pos) == UInt8(ascii: "\n") || byte(pos) == 0 else { throw Unsupported() }
        _ = try skipToContent()
    }

    /// `-` followed by a blank: a block sequence entry.
    private func isBlockEntry() -> Bool {
        byte(pos) == UInt8(ascii: "-") && FastYAMLParser.isBlankOrEnd(byte(pos + 1))
    }

    /// Whether the current line, from `pos`, is `key: …` with a plain or quoted key.
    private func startsBlockMappingKey() -> Bool {
        var i = pos
        let first = byte(i)
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            i += 1
            while true {
                let b = byte(i)
                if b == 0 || b == UInt8(ascii: "\n") { return false }
                if b == first {
                    if first == UInt8(ascii: "'") && byte(i + 1) == UInt8(ascii: "'") {
                        i += 2
                        continue
                    }
                    break
                }
                if first == UInt8(ascii: "\"") && b == UInt8(ascii: "\\") { i += 1 }
                i += 1
            }
            return byte(i + 1) == UInt8(ascii: ":") && FastYAMLParser.isBlankOrEnd(byte(i + 2))
        }
        if cannotStartPlain(i) { return false }
        while true {
            let b = byte(i)
            if b == 0 || b == UInt8(ascii: "\n") { return false }
            if b == UInt8(ascii: ":") && FastYAMLParser.isBlankOrEnd(byte(i + 1)) { return true }
            if b == UInt8(ascii: " ") && byte(i + 1) == UInt8(ascii: "#") { return false }
            i += 1
        }
    }

    private mutating func enter() throws(Unsupported) {
        depth += 1
        if depth > FastYAMLParser.maxDepth { throw Unsupported() }
    }

    // MARK: Block collections

    /// A block mapping whose keys sit at column `indent`; `pos` is at its first key.
    private mutating func blockMapping(indent mappingIndent: Int) throws(Unsupported) -> YAMLNodeID {
        try enter()
        defer { depth -= 1 }
        let mapping = document.addCollection(.mapping, at: mark(at: pos))
        var last: YAMLNodeID = -1
        while true {
            let key = try blockKey()
            let value = try blockValue(parentIndent: mappingIndent, inMapping: true)
            document.appendPair(key: key, value: value, to: mapping, last: &last)
            if atEnd || indent < mappingIndent { break }
            // Deeper lines after a complete value, or `- ` at the keys' column: libyaml decides.
            guard indent == mappingIndent, !isBlockEntry() else { throw Unsupported() }
        }
        return mapping
    }

    /// A block sequence whose `-` sit at column `indent`; `pos` is at its first `-`.
    private mutating func blockSequence(indent sequenceIndent: Int) throws(Unsupported) -> YAMLNodeID {
        try enter()
        defer { depth -= 1 }
        let sequence = document.addCollection(.sequence, at: mark(at: pos))
        var last: YAMLNodeID = -1
        while true {
            pos += 1  // the `-`
            while byte(pos) == UInt8(ascii: " ") { pos += 1 }
            if isBlockEntry() { throw Unsupported() }  // `- - x`
            let b = byte(pos)
            let item: YAMLNodeID
            if b != UInt8(ascii: "\n") && b != 0 && b != UInt8(ascii: "#") && startsBlockMappingKey() {
                // `- key: value`: a mapping whose keys line up with this first one.
                item = try blockMapping(indent: pos - lineStart)
            } else {
                item = try blockValue(parentIndent: sequenceIndent, inMapping: false)
            }
            document.appendItem(item, to: sequence, last: &last)
            if atEnd || indent < sequenceIndent { break }
            guard indent == sequenceIndent else { throw Unsupported() }
            guard isBlockEntry() else { break }  // the parent mapping's next key
        }
        return sequence
    }

    /// A key at `pos`, up to and including its `:`.
    private mutating func blockKey() throws(Unsupported) -> YAMLNodeID {
        let first = byte(pos)
        let key: YAMLNodeID
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            key = try quotedScalar()
        } else {
            guard !cannotStartPlain(pos) else { throw Unsupported() }
            let start = pos
            var end = pos
            while true {
                let b = byte(pos)
                if b == 0 || b == UInt8(ascii: "\n") { throw Unsupported() }
                if b == UInt8(ascii: ":") && FastYAMLParser.isBlankOrEnd(byte(pos + 1)) { break }
                if b == UInt8(ascii: " ") {
                    if byte(pos + 1) == UInt8(ascii: "#") { throw Unsupported() }
                } else {
                    end = pos + 1
                }
                pos += 1
            }
            // libyaml limits simple keys to 1024 characters.
            guard end - start <= 1000 else { throw Unsupported() }
            key = plainScalar(start, end)
        }
        guard byte(pos) == UInt8(ascii: ":"), FastYAMLParser.isBlankOrEnd(byte(pos + 1)) else { throw Unsupported() }
        pos += 1
        return key
    }

    /// The value after `key:` or `- `. Leaves the parser at the next content line (or the end).
    /// `parentIndent` is the column of the collection the value belongs to: the value's own lines
    /// must be deeper than it. In a mapping, a sequence may also sit at the keys' column.
    private mutating func blockValue(parentIndent: Int, inMapping: Bool) throws(Unsupported) -> YAMLNodeID {
        while byte(pos) == UInt8(ascii: " ") { pos += 1 }
        let b = byte(pos)
        if b == UInt8(ascii: "\n") || b == 0 || b == UInt8(ascii: "#") {
            // Nothing on this line: a nested collection on the next lines, or an empty value.
            let emptyMark = mark(at: pos)
            while byte(pos) != UInt8(ascii: "\n") && byte(pos) != 0 { pos += 1 }
            guard try skipToContent() else { return emptyScalar(at: emptyMark) }
            if indent > parentIndent {
                if isBlockEntry() { return try blockSequence(indent: indent) }
                guard startsBlockMappingKey() else { throw Unsupported() }  // a scalar on the next line
                return try blockMapping(indent: indent)
            }
            if indent == parentIndent && inMapping && isBlockEntry() {
                return try blockSequence(indent: indent)
            }
            return emptyScalar(at: emptyMark)
        }
        let node: YAMLNodeID
        switch b {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            node = try flowNode(blockIndent: parentIndent)
            try finishLine()
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            node = try quotedScalar()
            try finishLine()
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            return try blockScalar(parentIndent: parentIndent)
        default:
            guard !cannotStartPlain(pos) else { throw Unsupported() }
            let start = pos
            var end = pos
            while true {
                let c = byte(pos)
                if c == 0 || c == UInt8(ascii: "\n") { break }
                if c == UInt8(ascii: " ") {
                    if byte(pos + 1) == UInt8(ascii: "#") { break }
                } else {
                    // `key: a: b` is an error; libyaml says so better.
                    if c == UInt8(ascii: ":") && FastYAMLParser.isBlankOrEnd(byte(pos + 1)) { throw Unsupported() }
                    end = pos + 1
                }
                pos += 1
            }
            node = plainScalar(start, end)
            try finishLine()
        }
        // A deeper line after a value continues a multi-line scalar (or is an error): libyaml's business.
        if !atEnd && indent > parentIndent { throw Unsupported() }
        return node
    }

    // MARK: Scalars

    /// A single- or double-quoted scalar on one line; `pos` is at the opening quote.
    private mutating func quotedScalar() throws(Unsupported) -> YAMLNodeID {
        let quote = byte(pos)
        let start = mark(at: pos)
        pos += 1
        var segmentStart = pos
        var decoded: [UInt8]? = nil  // only when escapes change the text
        while true {
            let b = byte(pos)
            if b == 0 || b == UInt8(ascii: "\n") { throw Unsupported() }  // unterminated or multi-line
            if b == quote {
                if quote == UInt8(ascii: "'") && byte(pos + 1) == UInt8(ascii: "'") {
                    decoded = (decoded ?? []) + UnsafeBufferPointer(rebasing: bytes[segmentStart..<(pos + 1)])
                    pos += 2
                    segmentStart = pos
                    continue
                }
                break
            }
            if quote == UInt8(ascii: "\"") && b == UInt8(ascii: "\\") {
                var buffer = decoded ?? []
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<pos]))
                pos = try appendEscape(at: pos, to: &buffer)
                decoded = buffer
                segmentStart = pos
                continue
            }
            pos += 1
        }
        let node: YAMLNodeID
        if var buffer = decoded {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<pos]))
            node = document.addScalar(decoded: buffer, isPlain: false, at: start)
        } else {
            node = document.addScalar(sourceStart: segmentStart, length: pos - segmentStart, isPlain: false, at: start)
        }
        pos += 1  // closing quote
        return node
    }

    /// Decodes the escape at `index` (a backslash) into `buffer`; returns the index after it.
    private func appendEscape(at index: Int, to buffer: inout [UInt8]) throws(Unsupported) -> Int {
        let simple: UInt8?
        switch byte(index + 1) {
        case UInt8(ascii: "0"): simple = 0
        case UInt8(ascii: "a"): simple = 7
        case UInt8(ascii: "b"): simple = 8
        case UInt8(ascii: "t"): simple = 9
        case UInt8(ascii: "n"): simple = 10
        case UInt8(ascii: "v"): simple = 11
        case UInt8(ascii: "f"): simple = 12
        case UInt8(ascii: "r"): simple = 13
        case UInt8(ascii: "e"): simple = 27
        case UInt8(ascii: " "): simple = UInt8(ascii: " ")
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        default: simple = nil
        }
        if let simple {
            buffer.append(simple)
            return index + 2
        }
        let scalarValue: UInt32
        let next: Int
        switch byte(index + 1) {
        case UInt8(ascii: "N"): (scalarValue, next) = (0x85, index + 2)
        case UInt8(ascii: "_"): (scalarValue, next) = (0xA0, index + 2)
        case UInt8(ascii: "L"): (scalarValue, next) = (0x2028, index + 2)
        case UInt8(ascii: "P"): (scalarValue, next) = (0x2029, index + 2)
        case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
            let length = byte(index + 1) == UInt8(ascii: "x") ? 2 : byte(index + 1) == UInt8(ascii: "u") ? 4 : 8
            var value: UInt32 = 0
            for i in 0..<length {
                let h = byte(index + 2 + i)
                let digit: UInt32
                switch h {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(h - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(h - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(h - UInt8(ascii: "A") + 10)
                default: throw Unsupported()
                }
                value = value << 4 | digit
            }
            (scalarValue, next) = (value, index + 2 + length)
        default:
            throw Unsupported()  // unknown escape, or an escaped line break
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw Unsupported() }
        buffer.append(contentsOf: UTF8.encode(scalar)!)
        return next
    }

    /// A `|` or `>` block scalar; `pos` is at the indicator. Follows libyaml's
    /// `yaml_parser_scan_block_scalar` line for line, without explicit indentation indicators.
    private mutating func blockScalar(parentIndent: Int) throws(Unsupported) -> YAMLNodeID {
        let start = mark(at: pos)
        let literal = byte(pos) == UInt8(ascii: "|")
        pos += 1
        var chomping = 0  // -1 strip, 0 clip, +1 keep
        if byte(pos) == UInt8(ascii: "-") || byte(pos) == UInt8(ascii: "+") {
            chomping = byte(pos) == UInt8(ascii: "-") ? -1 : 1
            pos += 1
        }
        let afterHeader = pos
        while byte(pos) == UInt8(ascii: " ") { pos += 1 }
        if byte(pos) == UInt8(ascii: "#") {
            guard pos > afterHeader else { throw Unsupported() }
            while byte(pos) != UInt8(ascii: "\n") && byte(pos) != 0 { pos += 1 }
        }
        guard byte(pos) == UInt8(ascii: "\n") else { throw Unsupported() }  // indentation indicator, junk, or end of file
        pos += 1
        line += 1
        lineStart = pos

        var blockIndent = 0  // not yet known
        var trailingBreaks = 0
        var maxIndent = 0
        // Eats indentation and empty lines; returns the current column.
        func scanBreaks(_ p: inout FastYAMLParser) -> Int {
            while true {
                while (blockIndent == 0 || p.pos - p.lineStart < blockIndent) && p.byte(p.pos) == UInt8(ascii: " ") { p.pos += 1 }
                maxIndent = max(maxIndent, p.pos - p.lineStart)
                guard p.byte(p.pos) == UInt8(ascii: "\n") else { return p.pos - p.lineStart }
                trailingBreaks += 1
                p.pos += 1
                p.line += 1
                p.lineStart = p.pos
            }
        }
        var column = scanBreaks(&self)
        // The first content line sets the indentation; libyaml would take a deeper empty line
        // before it as the indentation and end the scalar at once. Leave such files to libyaml.
        guard byte(pos) != 0, column > parentIndent, maxIndent == column else { throw Unsupported() }
        blockIndent = column

        var content: [UInt8] = []
        var leadingBreak = false
        var leadingBlank = false
        while column == blockIndent && byte(pos) != 0 {
            let trailingBlank = byte(pos) == UInt8(ascii: " ")
            if !literal && leadingBreak && !leadingBlank && !trailingBlank {
                if trailingBreaks == 0 { content.append(UInt8(ascii: " ")) }
            } else if leadingBreak {
                content.append(UInt8(ascii: "\n"))
            }
            leadingBreak = false
            content.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: trailingBreaks))
            trailingBreaks = 0
            leadingBlank = trailingBlank
            let lineContent = pos
            while byte(pos) != UInt8(ascii: "\n") && byte(pos) != 0 { pos += 1 }
            content.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineContent..<pos]))
            if byte(pos) == UInt8(ascii: "\n") {
                leadingBreak = true
                pos += 1
                line += 1
                lineStart = pos
            }
            column = scanBreaks(&self)
        }
        if chomping != -1 && leadingBreak { content.append(UInt8(ascii: "\n")) }
        if chomping == 1 { content.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: trailingBreaks)) }

        if byte(pos) == 0 {
            atEnd = true
        } else {
            // Back to the start of the line that ended the scalar, to find the next content line.
            pos = lineStart
            _ = try skipToContent()
        }
        if !atEnd && indent > parentIndent { throw Unsupported() }
        return document.addScalar(decoded: content, isPlain: false, at: start)
    }

    // MARK: Flow collections

    /// A flow collection or scalar inside one. Lines inside must be deeper than `blockIndent`.
    private mutating func flowNode(blockIndent: Int) throws(Unsupported) -> YAMLNodeID {
        switch byte(pos) {
        case UInt8(ascii: "["):
            try enter()
            defer { depth -= 1 }
            let sequence = document.addCollection(.sequence, at: mark(at: pos))
            var last: YAMLNodeID = -1
            pos += 1
            try skipFlowSpace(blockIndent: blockIndent)
            if byte(pos) == UInt8(ascii: "]") {
                pos += 1
                return sequence
            }
            while true {
                let item = try flowNode(blockIndent: blockIndent)
                document.appendItem(item, to: sequence, last: &last)
                try skipFlowSpace(blockIndent: blockIndent)
                let b = byte(pos)
                pos += 1
                if b == UInt8(ascii: "]") { break }
                // `[a: b]` (single-pair mappings) and anything else: libyaml's business.
                guard b == UInt8(ascii: ",") else { throw Unsupported() }
                try skipFlowSpace(blockIndent: blockIndent)
                guard byte(pos) != UInt8(ascii: "]") else { throw Unsupported() }  // trailing comma
            }
            return sequence
        case UInt8(ascii: "{"):
            try enter()
            defer { depth -= 1 }
            let mapping = document.addCollection(.mapping, at: mark(at: pos))
            var last: YAMLNodeID = -1
            pos += 1
            try skipFlowSpace(blockIndent: blockIndent)
            if byte(pos) == UInt8(ascii: "}") {
                pos += 1
                return mapping
            }
            while true {
                let keyStart = byte(pos)
                guard keyStart != UInt8(ascii: "[") && keyStart != UInt8(ascii: "{") else { throw Unsupported() }
                let key = try flowNode(blockIndent: blockIndent)
                // The `:` right after the key (`{a : b}` and keys without values: libyaml's business).
                guard byte(pos) == UInt8(ascii: ":") else { throw Unsupported() }
                pos += 1
                try skipFlowSpace(blockIndent: blockIndent)
                let value: YAMLNodeID
                if byte(pos) == UInt8(ascii: ",") || byte(pos) == UInt8(ascii: "}") {
                    value = emptyScalar(at: mark(at: pos))
                } else {
                    value = try flowNode(blockIndent: blockIndent)
                    try skipFlowSpace(blockIndent: blockIndent)
                }
                document.appendPair(key: key, value: value, to: mapping, last: &last)
                let b = byte(pos)
                pos += 1
                if b == UInt8(ascii: "}") { break }
                guard b == UInt8(ascii: ",") else { throw Unsupported() }
                try skipFlowSpace(blockIndent: blockIndent)
                guard byte(pos) != UInt8(ascii: "}") else { throw Unsupported() }  // trailing comma
            }
            return mapping
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return try quotedScalar()
        default:
            return try flowPlainScalar(blockIndent: blockIndent)
        }
    }

    /// A plain scalar inside `[…]` or `{…}`: ends at `,[]{}`, at `: `, or before ` #`.
    private mutating func flowPlainScalar(blockIndent: Int) throws(Unsupported) -> YAMLNodeID {
        guard !cannotStartPlain(pos) else { throw Unsupported() }
        let start = pos
        var end = pos
        scan: while true {
            let b = byte(pos)
            switch b {
            case 0, UInt8(ascii: "\n"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                break scan
            case UInt8(ascii: ":"):
                let next = byte(pos + 1)
                if FastYAMLParser.isBlankOrEnd(next) { break scan }
                switch next {
                case UInt8(ascii: ","), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                    throw Unsupported()  // libyaml rejects `a:,`
                default:
                    break
                }
                end = pos + 1
            case UInt8(ascii: " "):
                if byte(pos + 1) == UInt8(ascii: "#") { break scan }
            default:
                end = pos + 1
            }
            pos += 1
        }
        let node = plainScalar(start, end)
        pos = end
        // A plain scalar that goes on after a line break is folded by libyaml: leave it to libyaml.
        var probe = end
        while byte(probe) == UInt8(ascii: " ") { probe += 1 }
        if byte(probe) == UInt8(ascii: "\n") {
            while true {
                let b = byte(probe)
                if b == UInt8(ascii: " ") || b == UInt8(ascii: "\n") {
                    probe += 1
                } else if b == UInt8(ascii: "#") && (byte(probe - 1) == UInt8(ascii: " ") || byte(probe - 1) == UInt8(ascii: "\n")) {
                    while byte(probe) != UInt8(ascii: "\n") && byte(probe) != 0 { probe += 1 }
                } else {
                    break
                }
            }
            let next = byte(probe)
            guard next == UInt8(ascii: ",") || next == UInt8(ascii: "]") || next == UInt8(ascii: "}") else { throw Unsupported() }
        }
        return node
    }

    /// Spaces, line breaks and comments between flow tokens. A line inside a flow collection must
    /// be deeper than the block it is in.
    private mutating func skipFlowSpace(blockIndent: Int) throws(Unsupported) {
        while true {
            switch byte(pos) {
            case UInt8(ascii: " "):
                pos += 1
            case UInt8(ascii: "#"):
                let before = pos > 0 ? byte(pos - 1) : UInt8(ascii: "\n")
                guard before == UInt8(ascii: " ") || before == UInt8(ascii: "\n") else { throw Unsupported() }
                while byte(pos) != UInt8(ascii: "\n") && byte(pos) != 0 { pos += 1 }
            case UInt8(ascii: "\n"):
                pos += 1
                line += 1
                lineStart = pos
                while byte(pos) == UInt8(ascii: " ") { pos += 1 }
                let b = byte(pos)
                if b != UInt8(ascii: "\n") && b != 0 && pos - lineStart <= blockIndent { throw Unsupported() }
            case 0:
                throw Unsupported()  // unterminated collection
            default:
                return
            }
        }
    }
}
