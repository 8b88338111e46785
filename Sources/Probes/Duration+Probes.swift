extension Duration {
    /// The duration in whole nanoseconds, as NIO's time amounts take it.
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }

    /// The duration in whole milliseconds, as a probe reports latency.
    var milliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
