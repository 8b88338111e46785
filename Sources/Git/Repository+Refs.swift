import CGit2

extension Repository {
    /// The object a reference names (full name, e.g. `refs/heads/env/prod`); nil when it does not
    /// exist. Symbolic refs (like `HEAD`) are followed; an annotated tag ref gives the tag object,
    /// not the commit — the value to pass back as `expecting:`. Throws `GitError` for a malformed
    /// name or a broken ref.
    public func reference(named name: String) throws -> ObjectID? {
        var oid = git_oid()
        let code = git_reference_name_to_id(&oid, pointer, name)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "git_reference_name_to_id")
        return ObjectID(oid)
    }

    /// The references whose full name starts with `prefix` (e.g. `refs/heads/task/`), sorted by
    /// name (byte order). Throws `GitError` when the ref store cannot be read.
    public func references(withPrefix prefix: String) throws -> [Reference] {
        var references: [Reference] = []
        try forEachReference(withPrefix: prefix) { name, reference in
            if let target = try directTarget(of: reference) {
                references.append(Reference(name: name, target: target))
            }
        }
        return references.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// Calls `body` with the name and handle of each reference starting with `prefix`, unsorted.
    func forEachReference(withPrefix prefix: String, _ body: (String, OpaquePointer) throws -> Void) throws {
        // The glob lets the ref store skip unrelated folders; a prefix that holds glob characters
        // would be misread, so then list everything and filter here.
        let isLiteral = !prefix.contains { "*?[\\".contains($0) }
        let iterator = try make(isLiteral ? "git_reference_iterator_glob_new" : "git_reference_iterator_new") {
            isLiteral ? git_reference_iterator_glob_new($0, pointer, prefix + "*") : git_reference_iterator_new($0, pointer)
        }
        defer { git_reference_iterator_free(iterator) }
        while true {
            var reference: OpaquePointer?
            let code = git_reference_next(&reference, iterator)
            if code == GIT_ITEROVER.rawValue {
                git_error_clear()
                return
            }
            try check(code, "git_reference_next")
            guard let reference else { continue }
            defer { git_reference_free(reference) }
            let name = String(cString: git_reference_name(reference))
            if name.hasPrefix(prefix) { try body(name, reference) }
        }
    }

    /// The id a ref names, following symbolic refs; nil when a symbolic ref dangles.
    private func directTarget(of reference: OpaquePointer) throws -> ObjectID? {
        if git_reference_type(reference) == GIT_REFERENCE_DIRECT {
            return git_reference_target(reference).map(ObjectID.init)
        }
        var resolved: OpaquePointer?
        let code = git_reference_resolve(&resolved, reference)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "git_reference_resolve")
        defer { git_reference_free(resolved) }
        return resolved.flatMap { git_reference_target($0) }.map(ObjectID.init)
    }

    /// Moves (or creates) a reference with compare-and-swap: it changes only if it still names
    /// `old`; a nil `old` creates it only if it does not exist. `message` goes to the reflog where
    /// git keeps one. Throws `GitError`: `.modified` when the ref moved or was deleted meanwhile,
    /// `.exists` when creating an existing ref, `.locked` while another writer holds it,
    /// and `.notFound` when `new` is not an object of this repository.
    public func updateReference(_ name: String, to new: ObjectID, expecting old: ObjectID?, message: String) throws {
        // libgit2's own check is off with strict object creation (see `LibGit2`).
        var target = new.oid
        guard git_odb_exists(odb, &target) == 1 else {
            throw GitError(
                code: GIT_ENOTFOUND.rawValue,
                errorClass: Int32(GIT_ERROR_REFERENCE.rawValue),
                message: "cannot point '\(name)' at \(new): no such object in this repository",
                function: "git_reference_create_matching"
            )
        }
        try moveReference(name, to: new, expecting: old, message: message)
    }

    /// `updateReference` for a target devsys has just written, so known to exist. `signature`
    /// stamps the reflog entry (libgit2's default identity from the config when nil).
    func moveReference(_ name: String, to new: ObjectID, expecting old: ObjectID?, message: String, signature: Signature? = nil) throws {
        if try recoveringStaleLock(of: name, { try swapReference(name, to: new, expecting: old, message: message, signature: signature) }) {
            return
        }
        var newOid = new.oid
        var reference: OpaquePointer?
        var code: Int32
        if let old {
            var oldOid = old.oid
            code = git_reference_create_matching(&reference, pointer, name, &newOid, 1, &oldOid, message)
            if code == GIT_ENOTFOUND.rawValue {
                // libgit2 reports a vanished ref as "not found"; for a compare-and-swap it is a lost race.
                let underlying = GitError.last(code, "git_reference_create_matching")
                throw GitError.refMoved(name, expected: old, now: nil, errorClass: underlying.errorClass, function: "git_reference_create_matching")
            }
        } else {
            code = git_reference_create_matching(&reference, pointer, name, &newOid, 0, nil, message)
        }
        try check(code, "git_reference_create_matching")
        git_reference_free(reference)
    }

    /// Moves (or creates, `old` nil) a direct ref under its lock: lock, read, compare, write — the
    /// compare-and-swap `git_reference_create_matching` promises, in half the system calls (it reads
    /// the ref once instead of twice and needs no config for the reflog identity). libgit2 1.5's
    /// own create (`force` 0) checks that the ref is absent outside the lock, so two writers could
    /// both create it and one commit be lost; here the check is under the lock every git writer
    /// takes. Returns false, having changed nothing, when the ref is symbolic, or missing while
    /// `old` names a commit; `moveReference` then takes libgit2's path.
    private func swapReference(_ name: String, to new: ObjectID, expecting old: ObjectID?, message: String, signature: Signature?) throws -> Bool {
        let transaction = try make("git_transaction_new") { git_transaction_new($0, pointer) }
        // Freeing an uncommitted transaction releases its lock.
        defer { git_transaction_free(transaction) }
        // Every git writer takes this lock, so what we read below holds until we commit.
        try check(git_transaction_lock_ref(transaction, name), "git_transaction_lock_ref")
        var found: OpaquePointer?
        let code = git_reference_lookup(&found, pointer, name)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            guard old == nil else { return false }
        } else {
            try check(code, "git_reference_lookup")
            guard let reference = found else { return false }
            defer { git_reference_free(reference) }
            guard git_reference_type(reference) == GIT_REFERENCE_DIRECT else { return false }
            let current = git_reference_target(reference).map(ObjectID.init)
            guard let old else {
                throw GitError(
                    code: GIT_EEXISTS.rawValue,
                    errorClass: Int32(GIT_ERROR_REFERENCE.rawValue),
                    message: "reference '\(name)' already exists\(current.map { " at \($0)" } ?? ""); re-read it and retry",
                    function: "git_transaction_lock_ref"
                )
            }
            guard current == old else {
                throw GitError.refMoved(name, expected: old, now: current, function: "git_transaction_lock_ref")
            }
        }
        var target = new.oid
        if let signature {
            try signature.withGitSignature { signature in
                try check(git_transaction_set_target(transaction, name, &target, signature, message), "git_transaction_set_target")
            }
        } else {
            try check(git_transaction_set_target(transaction, name, &target, nil, message), "git_transaction_set_target")
        }
        try check(git_transaction_commit(transaction), "git_transaction_commit")
        return true
    }

    /// Deletes a reference if it still names `old`. Throws `GitError`: `.modified` when it names
    /// something else, `.notFound` when it does not exist.
    public func deleteReference(_ name: String, expecting old: ObjectID) throws {
        let reference = try make("git_reference_lookup") { git_reference_lookup($0, pointer, name) }
        defer { git_reference_free(reference) }
        let current = git_reference_target(reference).map(ObjectID.init)
        guard current == old else {
            throw GitError.refMoved(name, expected: old, now: current, function: "git_reference_delete")
        }
        // git_reference_delete compares with the value just read, under the ref's lock.
        try check(git_reference_delete(reference), "git_reference_delete")
    }
}

extension GitError {
    /// A compare-and-swap found the ref somewhere else than expected.
    static func refMoved(_ name: String, expected: ObjectID, now: ObjectID?, errorClass: Int32? = nil, function: String) -> GitError {
        GitError(
            code: GIT_EMODIFIED.rawValue,
            errorClass: errorClass ?? Int32(GIT_ERROR_REFERENCE.rawValue),
            message: "reference '\(name)' is \(now.map { "at \($0)" } ?? "gone or symbolic"), expected it at \(expected); re-read it and retry",
            function: function
        )
    }
}
