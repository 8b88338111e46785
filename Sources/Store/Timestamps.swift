import Foundation

// Dates are stored as whole milliseconds since 1970 (INTEGER): exact to compare and sort in SQL, and
// a date that is already a whole millisecond reads back equal to what was written.
extension Date {
    var storeMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(storeMilliseconds milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
