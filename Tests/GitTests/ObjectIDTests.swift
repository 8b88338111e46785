import Foundation
import Git
import Testing

@Suite("Object ids")
struct ObjectIDTests {
    @Test("hex round-trips, orders like the hex strings, and rejects anything but 40 hex digits")
    func hexAndOrder() throws {
        let hexes = [
            "ff00000000000000000000000000000000000001", "0000000000000000000000000000000000000001", "00000000000000000000000000000000000000ff",
            "0123456789abcdef0123456789abcdef01234567",
        ]
        let ids = try hexes.map { try #require(ObjectID(hex: $0)) }
        #expect(ids.map(\.hex) == hexes)
        #expect(ids.map(\.description) == hexes)
        #expect(ids.sorted().map(\.hex) == hexes.sorted())
        #expect(ObjectID(hex: "0123456789ABCDEF0123456789ABCDEF01234567")?.hex == "0123456789abcdef0123456789abcdef01234567")
        #expect(ObjectID.zero.hex == String(repeating: "0", count: 40))
        for bad in ["", "abc", String(repeating: "g", count: 40), String(repeating: "0", count: 41)] {
            #expect(ObjectID(hex: bad) == nil)
        }
        #expect(Set(ids + ids).count == 4)
    }
}
