import Git

extension Signature {
    /// The signature for an actor's name: `Ada Lovelace <ada@example.com>` gives that name and
    /// address; a name without one (`devsys`, a token's name) gets `devsys@localhost`.
    public init(actor: String) {
        if actor.hasSuffix(">"), let open = actor.lastIndex(of: "<") {
            let name = actor[..<open].trimmingCharacters(in: .whitespaces)
            let email = actor[actor.index(after: open)..<actor.index(before: actor.endIndex)].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, !email.isEmpty, !name.contains("<"), !name.contains(">") {
                self.init(name: name, email: email)
                return
            }
        }
        self.init(name: actor.replacingOccurrences(of: "<", with: "").replacingOccurrences(of: ">", with: ""), email: "devsys@localhost")
    }
}
