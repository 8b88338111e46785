import Foundation

/// The files of one spec folder.
public struct SpecFolder: Sendable {
    /// The folder, relative to the repository root: `specs/001-about-page`.
    public var path: String
    /// File name inside the folder → content. May lack task.yaml (that is reported).
    public var files: [String: Data]
    /// File name → size in bytes, for files the caller did not read because they exceed `maxFileSize`.
    public var oversizeFiles: [String: Int]

    public init(path: String, files: [String: Data], oversizeFiles: [String: Int] = [:]) {
        self.path = path
        self.files = files
        self.oversizeFiles = oversizeFiles
    }
}
