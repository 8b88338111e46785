import Foundation

/// How long a failed job waits before its next attempt: `base × 2^(attempt−1)`, capped at `max`,
/// then spread by ± `jitter` (a fraction) so that jobs failing together do not retry together.
public struct RetryBackoff: Codable, Sendable, Equatable {
    /// The delay after the first failed attempt, in seconds.
    public var base: TimeInterval
    /// The longest delay before jitter, in seconds.
    public var max: TimeInterval
    /// The fraction of the delay added or taken away at random, in `0...1`.
    public var jitter: Double

    public init(base: TimeInterval, max: TimeInterval, jitter: Double) {
        self.base = Swift.max(0, base)
        self.max = Swift.max(self.base, max)
        self.jitter = Swift.min(Swift.max(jitter, 0), 1)
    }

    /// 5 s, 10 s, 20 s … up to 10 minutes, ± 20 %.
    public static let standard = RetryBackoff(base: 5, max: 600, jitter: 0.2)

    /// The delay after failed attempt number `attempt` (1 for the first), given a random number
    /// `unit` in `0..<1`: `unit` = 0.5 is the exact exponential delay. Rounded to whole
    /// milliseconds, the precision of the store's dates.
    public func delay(afterAttempt attempt: Int, unit: Double) -> TimeInterval {
        let exponent = Double(Swift.min(Swift.max(attempt, 1) - 1, 62))
        let exponential = Swift.min(max, base * pow(2, exponent))
        let jittered = exponential * (1 + jitter * (2 * unit - 1))
        return (Swift.max(0, jittered) * 1000).rounded() / 1000
    }
}
