import Foundation
import Git

/// A revision folder on a host, `revisions/<NNNN>-<sha12>` (DESIGN §5): the deploy's sequence
/// number in its environment and the first 12 hex digits of the commit.
public struct DeployRevision: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var sequence: Int
    /// The first 12 hex digits of the commit.
    public var abbreviatedCommit: String

    /// Throws `DeployError.invalidName` for a sequence below 1.
    public init(sequence: Int, commit: ObjectID) throws {
        guard sequence >= 1 else { throw DeployError.invalidName(what: "deploy sequence", value: "\(sequence)", reason: "must be 1 or more") }
        self.sequence = sequence
        self.abbreviatedCommit = String(commit.hex.prefix(12))
    }

    /// Reads a folder name such as `0003-1a2b3c4d5e6f`; nil for anything else (temp folders too).
    public init?(folderName: String) {
        let parts = folderName.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count >= 4, parts[0].allSatisfy(\.isASCIIDigit), let sequence = Int(parts[0]), sequence >= 1,
            parts[1].count == 12, parts[1].allSatisfy(\.isLowercaseHexDigit)
        else { return nil }
        self.sequence = sequence
        self.abbreviatedCommit = String(parts[1])
    }

    /// `0003-1a2b3c4d5e6f`: the sequence with at least 4 digits.
    public var folderName: String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "-" + abbreviatedCommit
    }

    public var description: String { folderName }

    public static func < (lhs: DeployRevision, rhs: DeployRevision) -> Bool {
        (lhs.sequence, lhs.abbreviatedCommit) < (rhs.sequence, rhs.abbreviatedCommit)
    }
}

/// A complete revision found on a host, with the commit its `REVISION` file names.
public struct HostRevision: Sendable, Hashable {
    public var revision: DeployRevision
    public var commit: ObjectID

    public init(revision: DeployRevision, commit: ObjectID) {
        self.revision = revision
        self.commit = commit
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isLowercaseHexDigit: Bool { isASCIIDigit || ("a"..."f").contains(self) }
}
