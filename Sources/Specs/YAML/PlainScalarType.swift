/// What an unquoted YAML scalar means, by the YAML 1.1 rules that PyYAML, Ansible and most
/// YAML-reading tools apply: `yes` is a boolean, `010` is octal 8, `2024-05-01` is a date.
///
/// devsys types plain scalars the same way, so a spec that passes `devsys validate` also passes
/// a JSON Schema check of the same file with PyYAML (`specs/task.schema.json`), and the other way
/// round. Quoted and block scalars are always text.
enum PlainScalarType: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`; still a number to a schema, so reported as out of range.
    case bigInt
    case float(Double)
    case timestamp
    case string

    /// Words for messages: "found a number (900)".
    var noun: String {
        switch self {
        case .null: return "nothing"
        case .bool: return "a yes/no value"
        case .int, .bigInt, .float: return "a number"
        case .timestamp: return "a date"
        case .string: return "text"
        }
    }

    static func resolve(_ text: String) -> PlainScalarType {
        var text = text
        return text.withUTF8 { resolve(bytes: $0) }
    }

    static func resolve(bytes: UnsafeBufferPointer<UInt8>) -> PlainScalarType {
        guard let first = bytes.first else { return .null }
        // Every implicit type starts with one of these characters (PyYAML's resolver is keyed the same way).
        switch first {
        case UInt8(ascii: "~"):
            return bytes.count == 1 ? .null : .string
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            if equals(bytes, "null", "Null", "NULL") { return .null }
            if equals(bytes, "no", "No", "NO") { return .bool(false) }
            return .string
        case UInt8(ascii: "y"), UInt8(ascii: "Y"):
            return equals(bytes, "yes", "Yes", "YES") ? .bool(true) : .string
        case UInt8(ascii: "t"), UInt8(ascii: "T"):
            return equals(bytes, "true", "True", "TRUE") ? .bool(true) : .string
        case UInt8(ascii: "f"), UInt8(ascii: "F"):
            return equals(bytes, "false", "False", "FALSE") ? .bool(false) : .string
        case UInt8(ascii: "o"), UInt8(ascii: "O"):
            if equals(bytes, "on", "On", "ON") { return .bool(true) }
            if equals(bytes, "off", "Off", "OFF") { return .bool(false) }
            return .string
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return number(bytes) ?? (isTimestamp(bytes) ? .timestamp : .string)
        default:
            return .string
        }
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ a: StaticString, _ b: StaticString, _ c: StaticString) -> Bool {
        for word in [a, b, c] where word.utf8CodeUnitCount == bytes.count {
            if memcmp(word.utf8Start, bytes.baseAddress!, bytes.count) == 0 { return true }
        }
        return false
    }

    // MARK: Numbers, as PyYAML's resolver patterns for int and float

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func number(_ bytes: UnsafeBufferPointer<UInt8>) -> PlainScalarType? {
        // The common case first, without allocating: a plain decimal like 900.
        if bytes.count <= 18, bytes[0] != UInt8(ascii: "0") || bytes.count == 1, bytes.allSatisfy(isDigit) {
            var value = 0
            for byte in bytes { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
            return .int(value)
        }
        var start = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            start = 1
        }
        let digits = Array(bytes[start...])
        guard let lead = digits.first else { return nil }

        if lead == UInt8(ascii: ".") {
            let rest = Array(digits.dropFirst())
            if ["inf", "Inf", "INF"].contains(where: { Array($0.utf8) == rest }) { return .float(negative ? -.infinity : .infinity) }
            // `\.(nan|NaN|NAN)` and `\.[0-9][0-9_]*…` take no sign.
            guard start == 0 else { return nil }
            if ["nan", "NaN", "NAN"].contains(where: { Array($0.utf8) == rest }) { return .float(.nan) }
            guard let next = rest.first, isDigit(next) else { return nil }
            return float(digits, negative: false)
        }
        guard isDigit(lead) else { return nil }
        if lead == UInt8(ascii: "0"), digits.count > 2 {
            if digits[1] == UInt8(ascii: "b") { return integer(digits.dropFirst(2), radix: 2, negative: negative) }
            if digits[1] == UInt8(ascii: "x") { return integer(digits.dropFirst(2), radix: 16, negative: negative) }
        }
        if digits.contains(UInt8(ascii: ":")) { return sexagesimal(digits, negative: negative) }
        if digits.contains(UInt8(ascii: ".")) { return float(digits, negative: negative) }
        if lead == UInt8(ascii: "0"), digits.count > 1 { return integer(digits.dropFirst(), radix: 8, negative: negative) }
        return integer(digits[...], radix: 10, negative: negative)
    }

    /// Digits (and `_`) in `radix`; nil when anything else is there.
    private static func integer(_ digits: ArraySlice<UInt8>, radix: Int, negative: Bool) -> PlainScalarType? {
        var value = 0
        var overflow = false
        for byte in digits {
            if byte == UInt8(ascii: "_") { continue }
            guard let digit = digitValue(byte), digit < radix else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: radix)
            let (plus, o2) = times.addingReportingOverflow(digit)
            overflow = overflow || o1 || o2
            value = plus
        }
        if overflow { return .bigInt }
        return .int(negative ? -value : value)
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    /// Base 60: `[1-9][0-9_]*(:[0-5]?[0-9])+` is an int (`1:30` is 90),
    /// `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*` a float.
    private static func sexagesimal(_ digits: [UInt8], negative: Bool) -> PlainScalarType? {
        var whole = digits[...]
        var fraction: ArraySlice<UInt8>? = nil
        if let dot = digits.firstIndex(of: UInt8(ascii: ".")) {
            whole = digits[..<dot]
            fraction = digits[(dot + 1)...]
            guard fraction!.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: "_") }) else { return nil }
        }
        let parts = whole.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count >= 2, let first = parts[0].first, isDigit(first),
            parts[0].allSatisfy({ isDigit($0) || $0 == UInt8(ascii: "_") })
        else { return nil }
        if fraction == nil && first == UInt8(ascii: "0") { return nil }
        for part in parts.dropFirst() {
            guard (1...2).contains(part.count), part.allSatisfy(isDigit) else { return nil }
            if part.count == 2, part.first! > UInt8(ascii: "5") { return nil }
        }
        if let fraction {
            var value = 0.0
            for part in parts { value = value * 60 + (Double(String(decoding: part.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)) ?? 0) }
            value += Double("0." + String(decoding: fraction.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)) ?? 0
            return .float(negative ? -value : value)
        }
        var value = 0
        for part in parts {
            guard case .int(let partValue) = integer(part, radix: 10, negative: false) else { return .bigInt }
            let (times, o1) = value.multipliedReportingOverflow(by: 60)
            let (plus, o2) = times.addingReportingOverflow(partValue)
            if o1 || o2 { return .bigInt }
            value = plus
        }
        return .int(negative ? -value : value)
    }

    /// `[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` or `\.[0-9][0-9_]*([eE][-+][0-9]+)?` — the exponent
    /// needs a sign and the mantissa a dot (so `1e3` is text, as in PyYAML).
    private static func float(_ digits: [UInt8], negative: Bool) -> PlainScalarType? {
        var mantissa: [UInt8] = []
        var index = 0
        var sawDot = false
        while index < digits.count {
            let byte = digits[index]
            if isDigit(byte) || byte == UInt8(ascii: "_") {
                if byte != UInt8(ascii: "_") { mantissa.append(byte) }
            } else if byte == UInt8(ascii: "."), !sawDot {
                sawDot = true
                mantissa.append(byte)
            } else {
                break
            }
            index += 1
        }
        guard sawDot else { return nil }
        var exponent: [UInt8] = []
        if index < digits.count {
            guard digits[index] == UInt8(ascii: "e") || digits[index] == UInt8(ascii: "E"), index + 2 < digits.count,
                digits[index + 1] == UInt8(ascii: "-") || digits[index + 1] == UInt8(ascii: "+"),
                digits[(index + 2)...].allSatisfy(isDigit)
            else { return nil }
            exponent = [UInt8(ascii: "e")] + digits[(index + 1)...]
        }
        if mantissa.last == UInt8(ascii: ".") { mantissa.append(UInt8(ascii: "0")) }
        if mantissa.first == UInt8(ascii: ".") { mantissa.insert(UInt8(ascii: "0"), at: 0) }
        let value = Double(String(decoding: mantissa + exponent, as: UTF8.self)) ?? .nan
        return .float(negative ? -value : value)
    }

    // MARK: Timestamps

    /// `YYYY-MM-DD`, or `YYYY-M-D` followed by a time — PyYAML turns both into dates.
    private static func isTimestamp(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        func at(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }
        func digits(min: Int, max: Int) -> Bool {
            var count = 0
            while count < max, isDigit(at(index)) {
                index += 1
                count += 1
            }
            return count >= min
        }
        func expect(_ ascii: Unicode.Scalar) -> Bool {
            guard at(index) == UInt8(ascii: ascii) else { return false }
            index += 1
            return true
        }
        guard digits(min: 4, max: 4), expect("-"), digits(min: 1, max: 2), expect("-"), digits(min: 1, max: 2) else { return false }
        if index == bytes.count { return index == 10 }  // a date alone is exactly YYYY-MM-DD
        if at(index) == UInt8(ascii: "T") || at(index) == UInt8(ascii: "t") {
            index += 1
        } else {
            guard at(index) == UInt8(ascii: " ") || at(index) == UInt8(ascii: "\t") else { return false }
            while at(index) == UInt8(ascii: " ") || at(index) == UInt8(ascii: "\t") { index += 1 }
        }
        guard digits(min: 1, max: 2), expect(":"), digits(min: 2, max: 2), expect(":"), digits(min: 2, max: 2) else { return false }
        if expect(".") { _ = digits(min: 0, max: Int.max) }
        while at(index) == UInt8(ascii: " ") || at(index) == UInt8(ascii: "\t") { index += 1 }
        if index == bytes.count { return true }
        if expect("Z") { return index == bytes.count }
        guard expect("-") || expect("+"), digits(min: 1, max: 2) else { return false }
        if index == bytes.count { return true }
        return expect(":") && digits(min: 2, max: 2) && index == bytes.count
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
