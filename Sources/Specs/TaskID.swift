/// Task ids and the spec folders named after them (DESIGN §3): `^[0-9]{3,}-[a-z0-9]+(-[a-z0-9]+)*$`,
/// at most 64 characters — `001-about-page`.
public enum TaskID {
    public static let maxLength = 64
    public static let pattern = "^[0-9]{3,}-[a-z0-9]+(-[a-z0-9]+)*$"

    /// Whether `id` is a valid task id. Hand-written rather than a regular expression: it runs
    /// for every spec on every push.
    public static func isValid(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { bytes in
            guard bytes.count <= maxLength else { return false }
            var index = 0
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index >= 3, index < bytes.count, bytes[index] == UInt8(ascii: "-") else { return false }
            // Then one or more words of [a-z0-9], separated by single dashes, not ending in one.
            var wordLength = 0
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                if isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) {
                    wordLength += 1
                } else if byte == UInt8(ascii: "-"), wordLength > 0 {
                    wordLength = 0
                } else {
                    return false
                }
                index += 1
            }
            return wordLength > 0
        }
    }

    /// Why `id` is not valid, in words, with what to do; nil when it is valid.
    static func problem(with id: String, what: String) -> String? {
        guard !isValid(id) else { return nil }
        if id.unicodeScalars.count > maxLength {
            return "\(what) '\(id)' is \(id.unicodeScalars.count) characters long; a task id has at most \(maxLength)"
        }
        return "\(what) '\(id)' is not a valid task id: use three or more digits, a dash, and lowercase words "
            + "joined by dashes, like '001-about-page'"
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

/// Paths inside the repository that specs and configs name (expected artifacts, app trees,
/// protected paths): relative, without `..`, empty segments or backslashes, so they can never
/// point outside the checkout.
enum RepositoryPath {
    /// Why `path` is not a safe relative path, or nil when it is. One pass over the bytes: this
    /// runs for every expected artifact of every spec.
    static func problem(with path: String) -> String? {
        var path = path
        return path.withUTF8 { bytes -> String? in
            guard let first = bytes.first else { return "is empty" }
            if first == UInt8(ascii: "/") { return "is absolute; write it relative to the repository root" }
            if first == UInt8(ascii: "~") { return "starts with '~'; write it relative to the repository root" }
            var segmentStart = 0
            var problem: String?
            var scalars = 0
            for index in 0...bytes.count {
                let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
                if byte & 0xC0 != 0x80 { scalars += 1 }
                // The second character a colon: `C:` (scalars counts the byte just read).
                if scalars == 2, byte == UInt8(ascii: ":"), index < bytes.count {
                    problem = problem ?? "looks like a Windows drive path; write it relative to the repository root"
                }
                if byte == UInt8(ascii: "\\") { return "contains a backslash; use '/' between folders" }
                if byte < 0x20 || byte == 0x7F { return "contains a control character" }
                guard byte == UInt8(ascii: "/") else { continue }
                let length = index - segmentStart
                if length == 2 && bytes[segmentStart] == UInt8(ascii: ".") && bytes[segmentStart + 1] == UInt8(ascii: ".") {
                    return "contains '..'; it must stay inside the repository"
                }
                if length == 0 { problem = problem ?? "has an empty segment ('//' or a trailing '/'); remove it" }
                segmentStart = index + 1
            }
            return problem
        }
    }
}
