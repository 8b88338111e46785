import Foundation

/// Numbers in `0..<1` for the jitter of retry delays. The system source in production; a fixed one
/// in tests, so that a retry's `notBefore` is known exactly.
public struct RandomSource: Sendable {
    private let next: @Sendable () -> Double

    /// - Parameter next: Returns a number in `0..<1` each time it is called; values outside are clamped.
    public init(_ next: @escaping @Sendable () -> Double) {
        self.next = next
    }

    /// Uniform numbers from the system generator.
    public static let system = RandomSource { Double.random(in: 0..<1) }

    /// The same number every time.
    public static func constant(_ value: Double) -> RandomSource {
        RandomSource { value }
    }

    func unitInterval() -> Double {
        min(max(next(), 0), 1)
    }
}
