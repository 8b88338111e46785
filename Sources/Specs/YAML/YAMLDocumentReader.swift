import Foundation

/// Turns the bytes of a YAML file into a `YAMLNode` tree, or into diagnostics that say plainly
/// what is wrong with the file as a whole (too big, binary, not UTF-8, not YAML).
///
/// Files are parsed by `FastYAMLParser` when they stay inside its subset — nearly every hand-written
/// config does — and by libyaml (through Yams) otherwise, which also supplies the position and
/// wording of syntax errors.
enum YAMLDocumentReader {
    enum Result {
        case document(YAMLDocument)
        /// No document at all: an empty file or only comments.
        case empty
        /// The file cannot be read as YAML; the reasons are in the collector.
        case failed
    }

    /// libyaml and Yams compose recursively; refuse nesting deeper than this (estimated) rather
    /// than risk the stack. Task specs need 4 levels.
    static let maxNestingEstimate = 200

    /// Yams expands aliases into copies; refuse documents that blow up ("billion laughs").
    static let maxNodes = 100_000

    static func read(_ data: Data, into diagnostics: inout DiagnosticCollector, sizeLimit: Int = SpecTreeValidator.maxFileSize) -> Result {
        guard data.count <= sizeLimit else {
            diagnostics.error(
                "file is \(data.count) bytes, over the limit of \(sizeLimit) bytes (\(sizeLimit / 1024) KiB); "
                    + "keep it small and move large content elsewhere",
                at: .startOfFile
            )
            return .failed
        }
        return data.withUnsafeBytes { raw in
            read(raw.bindMemory(to: UInt8.self), into: &diagnostics)
        }
    }

    static func read(_ file: UnsafeBufferPointer<UInt8>, into diagnostics: inout DiagnosticCollector) -> Result {
        // One leading UTF-8 byte order mark, as Windows editors write it: PyYAML skips it, and so
        // does devsys (lines and columns are counted after it, as editors show them).
        let hasByteOrderMark = file.count >= 3 && file[0] == 0xEF && file[1] == 0xBB && file[2] == 0xBF
        let bytes = hasByteOrderMark ? UnsafeBufferPointer(rebasing: file[3...]) : file
        let survey = TextSurvey(bytes)
        if let problem = survey.problem {
            diagnostics.error(problem.message, at: problem.mark)
            return .failed
        }
        if survey.fitsFastParser {
            switch FastYAMLParser.parse(bytes, isASCII: survey.isASCII) {
            case .document(let document): return .document(document)
            case .empty: return .empty
            case .unsupported: break
            }
        }
        return YamsComposer.compose(bytes, into: &diagnostics)
    }
}

/// One pass over a file's bytes: rejects binary and non-UTF-8 files with a clear message, and
/// notes whether the fast parser can take the file (no tabs, CRs, control or YAML-special
/// characters — those go to libyaml).
struct TextSurvey {
    struct Problem {
        var message: String
        var mark: YAMLMark
    }

    private(set) var problem: Problem?
    private(set) var isASCII = true
    private(set) var fitsFastParser = true

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.count >= 2, (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF) {
            problem = Problem(message: "file is UTF-16 text; save it as UTF-8", mark: .startOfFile)
            return
        }
        let count = bytes.count
        var i = 0
        // Eight bytes at a time while they are ASCII with no control character but '\n' (the
        // common case); the byte loop below handles the rest.
        if let base = UnsafeRawPointer(bytes.baseAddress) {
            let high: UInt64 = 0x8080_8080_8080_8080
            let ones: UInt64 = 0x0101_0101_0101_0101
            while i + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if word & high != 0 { break }
                // A byte's high bit survives `| 0x80 - n` exactly when the byte is at least n.
                let belowSpace = ~((word | high) &- ones &* 0x20) & high
                let newline = ~(((word ^ (ones &* 0x0A)) | high) &- ones) & high
                let delete = ~(((word ^ (ones &* 0x7F)) | high) &- ones) & high
                if belowSpace & ~newline != 0 || delete != 0 { break }
                i += 8
            }
        }
        while i < count {
            let b = bytes[i]
            if b < 0x80 {
                if b < 0x20 || b == 0x7F {
                    if b == 0 {
                        problem = Problem(
                            message: "file is binary (it contains NUL bytes), not YAML text; save it as UTF-8 text",
                            mark: .startOfFile
                        )
                        return
                    }
                    if b != UInt8(ascii: "\n") { fitsFastParser = false }
                }
                i += 1
                continue
            }
            isASCII = false
            let length = TextSurvey.sequenceLength(bytes, at: i)
            guard length > 0 else {
                // A NUL byte anywhere makes it a binary file, whatever else is wrong with it.
                if bytes[i...].contains(0) {
                    problem = Problem(
                        message: "file is binary (it contains NUL bytes), not YAML text; save it as UTF-8 text",
                        mark: .startOfFile
                    )
                    return
                }
                let mark = TextSurvey.mark(of: i, in: bytes)
                problem = Problem(
                    message: "file is not valid UTF-8: byte 0x\(String(b, radix: 16, uppercase: true)) at line \(mark.line), "
                        + "column \(mark.column) is not part of any character; save the file as UTF-8",
                    mark: mark
                )
                return
            }
            // Characters libyaml treats specially (NEL, LS, PS are line breaks; C1 controls, BOM,
            // U+FFFE/U+FFFF are refused): let libyaml handle or report them.
            if length == 2 && b == 0xC2 && bytes[i + 1] < 0xA0 { fitsFastParser = false }
            if length == 3 && b == 0xE2 && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9) { fitsFastParser = false }
            if length == 3 && b == 0xEF && ((bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF) || (bytes[i + 1] == 0xBF && bytes[i + 2] >= 0xBE)) {
                fitsFastParser = false
            }
            i += length
        }
    }

    /// The length of the well-formed UTF-8 sequence at `i`, or 0 when it is malformed.
    private static func sequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let b = bytes[i]
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            i + offset < bytes.count && bytes[i + offset] >= low && bytes[i + offset] <= high
        }
        switch b {
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    /// Line and column (in characters, as libyaml counts) of byte `offset`.
    static func mark(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return YAMLMark(line: line, column: column)
    }
}
