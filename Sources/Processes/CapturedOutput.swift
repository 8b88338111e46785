import Foundation

/// What a child process wrote to one stream, capped: the first and the last `limit` bytes are kept,
/// the middle is counted and dropped, so a command printing gigabytes costs at most `2 × limit`.
public struct CapturedOutput: Sendable, Hashable {
    /// The first bytes written (at most `limit`).
    public private(set) var head = Data()
    /// The last bytes written after `head` (at most `limit` once finished).
    public private(set) var tail = Data()
    /// Everything the stream carried, cut or not.
    public private(set) var totalBytes = 0
    public let limit: Int

    public init(limit: Int = 32 * 1024) {
        self.limit = max(1, limit)
    }

    /// Bytes dropped between `head` and `tail`.
    public var cutBytes: Int { totalBytes - head.count - tail.count }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += bytes.count
        var rest = bytes[...]
        if head.count < limit {
            let taken = rest.prefix(limit - head.count)
            head.append(contentsOf: taken)
            rest = rest.dropFirst(taken.count)
        }
        guard !rest.isEmpty else { return }
        tail.append(contentsOf: rest)
        // Trimmed in batches so a stream of small writes does not copy the tail each time.
        if tail.count > 2 * limit { tail = tail.suffix(limit) }
    }

    mutating func finish() {
        if tail.count > limit { tail = Data(tail.suffix(limit)) }
    }

    /// Head, a `[… N bytes cut …]` line when something was dropped, then tail.
    public var data: Data {
        guard cutBytes > 0 else { return head + tail }
        return head + Data("\n[… \(cutBytes) bytes cut …]\n".utf8) + tail
    }

    /// `data` as text; bytes that are not UTF-8 become U+FFFD.
    public var text: String { String(decoding: data, as: UTF8.self) }

    /// The last `maxBytes` bytes of `text` (starting at a line when one begins close by), for
    /// failure reasons that must stay short.
    public func lastText(maxBytes: Int = 2048) -> String {
        let all = data
        guard all.count > maxBytes else { return String(decoding: all, as: UTF8.self) }
        var cut = all.suffix(maxBytes)
        if let newline = cut.firstIndex(of: UInt8(ascii: "\n")), newline - cut.startIndex < maxBytes / 4 {
            cut = cut[(newline + 1)...]
        }
        return "…" + String(decoding: cut, as: UTF8.self)
    }
}
