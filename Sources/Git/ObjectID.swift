import CGit2

/// A git object name (SHA-1), copied out of libgit2. Orders like the hex strings do.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible, Comparable {
    // The 20 bytes as big-endian words, so integer order is byte order and hashing is cheap.
    private var high: UInt64
    private var middle: UInt64
    private var low: UInt32

    /// The all-zero id git uses for "no object" (e.g. the old value of a created ref).
    public static let zero = ObjectID(high: 0, middle: 0, low: 0)

    private init(high: UInt64, middle: UInt64, low: UInt32) {
        self.high = high
        self.middle = middle
        self.low = low
    }

    /// Parses a full 40-character hex id (either case); nil for anything else.
    /// Use `Repository.resolve(_:)` for short ids and other revisions.
    public init?(hex: String) {
        // Parsed here rather than by libgit2, which needs its per-thread state set up first.
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        for character in hex.utf8 {
            let digit: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            guard count < 40 else { return nil }
            switch count {
            case 0..<16: words.0 = words.0 << 4 | UInt64(digit)
            case 16..<32: words.1 = words.1 << 4 | UInt64(digit)
            default: words.2 = words.2 << 4 | UInt64(digit)
            }
            count += 1
        }
        guard count == 40 else { return nil }
        self.init(high: words.0, middle: words.1, low: UInt32(words.2))
    }

    init(_ oid: git_oid) {
        var oid = oid
        (high, middle, low) = withUnsafeBytes(of: &oid.id) { bytes in
            (
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            )
        }
    }

    init(_ oid: UnsafePointer<git_oid>) {
        self.init(oid.pointee)
    }

    /// The libgit2 form, for passing to C.
    var oid: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { bytes in
            bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: middle.bigEndian, toByteOffset: 8, as: UInt64.self)
            bytes.storeBytes(of: low.bigEndian, toByteOffset: 16, as: UInt32.self)
        }
        return oid
    }

    /// Appends the 20 raw bytes, as trees store ids.
    func appendRawBytes(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: high.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: middle.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: low.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// The 40-character lowercase hex form.
    /// The first 12 hex digits, as devsys's messages show a commit.
    public var short: String { String(hex.prefix(12)) }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 40) { buffer in
            for (offset, word) in [(0, high), (16, middle)] {
                for index in 0..<16 { buffer[offset + index] = digits[Int(word >> (60 - 4 * UInt64(index)) & 0xF)] }
            }
            for index in 0..<8 { buffer[32 + index] = digits[Int(low >> (28 - 4 * UInt32(index)) & 0xF)] }
            return 40
        }
    }

    public var description: String { hex }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        (lhs.high, lhs.middle, lhs.low) < (rhs.high, rhs.middle, rhs.low)
    }
}
