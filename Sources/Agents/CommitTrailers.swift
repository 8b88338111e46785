import Foundation

/// The `Key: value` trailers of a commit message: the lines of its last paragraph, as
/// `git interpret-trailers --parse` reads them when every line of that paragraph is a trailer.
public enum CommitTrailers {
    /// Trailers of `message`, in order; empty when the last paragraph is not all trailers.
    public static func parse(_ message: String) -> [(key: String, value: String)] {
        let paragraphs = message.split(separator: "\n", omittingEmptySubsequences: false)
            .split { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        // A message with one paragraph is all subject: git reads no trailers from it.
        guard paragraphs.count > 1, let last = paragraphs.last else { return [] }
        var trailers: [(key: String, value: String)] = []
        for line in last {
            guard let colon = line.firstIndex(of: ":") else { return [] }
            let key = line[..<colon]
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return [] }
            trailers.append((String(key), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return trailers
    }

    /// The value of the last trailer named `key` (case-insensitive, like git).
    public static func value(_ key: String, in message: String) -> String? {
        parse(message).last { $0.key.lowercased() == key.lowercased() }?.value
    }
}
