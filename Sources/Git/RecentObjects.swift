/// A small memory of values keyed by object id. Ids name immutable content, so an entry is never
/// stale; the memory is simply dropped when it grows past `limit`.
struct RecentObjects<Value> {
    private var values: [ObjectID: Value] = [:]
    var limit = 4_096

    subscript(id: ObjectID) -> Value? {
        get { values[id] }
        set {
            if newValue != nil && values.count >= limit && values[id] == nil { values.removeAll(keepingCapacity: true) }
            values[id] = newValue
        }
    }
}
