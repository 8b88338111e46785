/// One entry of a tree as git stores it: raw name bytes (not necessarily UTF-8), raw mode, id.
/// Used to rewrite trees without losing anything of the entries left untouched.
struct TreeItem {
    static let treeMode: UInt32 = 0o040000

    var name: [UInt8]
    var mode: UInt32
    var id: ObjectID

    var isTree: Bool { mode == Self.treeMode }

    /// git's tree order: names compare bytewise, a tree's name as if it ended in '/'.
    static func gitOrder(_ lhs: TreeItem, _ rhs: TreeItem) -> Bool {
        let left = lhs.isTree ? lhs.name + [0x2F] : lhs.name
        let right = rhs.isTree ? rhs.name + [0x2F] : rhs.name
        return left.lexicographicallyPrecedes(right)
    }

    /// The body of a tree object holding `items`: `<octal mode> <name>\\0<20-byte id>` each, in git's order.
    static func treeObject(_ items: [TreeItem]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(items.reduce(0) { $0 + $1.name.count + 28 })
        for item in items.sorted(by: gitOrder) {
            bytes.append(contentsOf: String(item.mode, radix: 8).utf8)
            bytes.append(0x20)
            bytes.append(contentsOf: item.name)
            bytes.append(0)
            item.id.appendRawBytes(to: &bytes)
        }
        return bytes
    }
}
