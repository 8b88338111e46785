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
        guard hex.utf8.count == 40 else { return nil }
        var oid = git_oid()
        guard git_oid_fromstrn(&oid, hex, 40) == 0 else {
            git_error_clear()
            return nil
        }
        self.init(oid)
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

    /// The 40-character lowercase hex form.
    public var hex: String {
        var oid = self.oid
        return String(unsafeUninitializedCapacity: 40) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = git_oid_fmt(chars.baseAddress, &oid)
            }
            return 40
        }
    }

    public var description: String { hex }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        (lhs.high, lhs.middle, lhs.low) < (rhs.high, rhs.middle, rhs.low)
    }
}
