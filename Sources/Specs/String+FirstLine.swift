extension String {
    /// The first line, for a reason that fits on one.
    public var firstLine: String { String(prefix { $0 != "\n" }) }
}
