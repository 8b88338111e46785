/// Text made safe for XML 1.0.
enum XMLText {
    /// Escapes `&`, `<`, `>` (and quotes, for attributes) and replaces the characters XML 1.0
    /// cannot hold at all (control characters other than tab, newline and carriage return;
    /// U+FFFE, U+FFFF) with U+FFFD. In attributes, newlines and tabs become character references
    /// so they survive parsing. Bytes that were not UTF-8 are U+FFFD already (`String(decoding:)`).
    static func escape(_ text: String, attribute: Bool = false) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"" where attribute: result += "&quot;"
            case "'" where attribute: result += "&apos;"
            case "\n" where attribute: result += "&#10;"
            case "\r": result += "&#13;"
            case "\t" where attribute: result += "&#9;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                result += "\u{FFFD}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
