/// The rules a name or a host's settings must follow before the deployer can use them: one place
/// for each. devsys.yaml's reader reports a broken rule as an error at its line, so a config that
/// validates does not fail later at every deploy; `HostDeployer` and `HostConnections` check the
/// same rules again before they build a command or open a connection.
///
/// Each returns nil when the value is fine, or what is wrong and what to do, worded to follow
/// "'hosts.web1.root' is '…', which ".
extension ProjectConfig {
    /// Why `name` cannot name an app, environment or host (it is used in folder and ref names):
    /// letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters,
    /// no `..`, not ending in `.lock`.
    public static func nameProblem(_ name: String) -> String? {
        func allowed(_ s: Unicode.Scalar) -> Bool { s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s)) }
        let scalars = name.unicodeScalars
        guard let first = scalars.first, scalars.count <= 64, !name.hasSuffix(".lock"), !name.contains(".."), allowed(first),
            scalars.allSatisfy({ allowed($0) || $0 == "." || $0 == "_" || $0 == "-" })
        else {
            return "may only use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters "
                + "(it is used in folder and ref names)"
        }
        return nil
    }
}

extension ProjectConfig.Host {
    /// Why `root` cannot be a host's root folder, as written: it is empty, has a control character
    /// (a line break cuts every command the deployer sends) or a `..` part. Whether it must be
    /// absolute (on an ssh host) is the reader's check.
    public static func rootProblem(_ root: String) -> String? {
        if root.isEmpty { return "is empty; give the folder apps are deployed under, like '/srv/devsys'" }
        if let control = firstControlCharacter(root) {
            return "contains the control character \(control); write the folder on one line, without control characters"
        }
        if root.split(separator: "/").contains("..") {
            return "has a '..' part; write the folder without '..', like '/srv/devsys'"
        }
        return homeProblem(root)
    }

    /// Why `address` cannot be an ssh host's address: a host name or an IP address, nothing else.
    public static func addressProblem(_ address: String) -> String? {
        if address.isEmpty { return "is empty; give the host name or IP address to connect to" }
        if let control = firstControlCharacter(address) { return "contains the control character \(control); a host name has none" }
        if address.contains("://") { return "is a URL; give only the host name or IP address here (the URL belongs in 'url')" }
        if address.contains("@") { return "holds a user; put the account in 'user' and only the host name or IP address here" }
        if address.hasPrefix("[") || address.hasSuffix("]") { return "has brackets; write an IPv6 address without them, like '::1'" }
        if address.filter({ $0 == ":" }).count == 1 { return "holds a port; put the port in 'port' and only the host name here" }
        // Host names, IPv4 and IPv6 addresses (with a `%zone`) use only these; a comma or a space
        // would also break the host's line in known_hosts.
        func allowed(_ s: Unicode.Scalar) -> Bool {
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || ".-_:%".unicodeScalars.contains(s))
        }
        if let bad = address.unicodeScalars.first(where: { !allowed($0) }) {
            return "contains '\(bad.escaped(asASCII: false))'; give one host name or IP address (letters, digits, '.', '-', '_', ':', '%')"
        }
        if address.hasPrefix("-") { return "starts with '-'; give a host name or IP address" }
        return nil
    }

    /// Why `user` cannot be the account devsys signs in as over SSH.
    public static func userProblem(_ user: String) -> String? {
        if user.isEmpty { return "is empty; give the account devsys signs in as, like 'deploy'" }
        if let control = firstControlCharacter(user) { return "contains the control character \(control); an account name has none" }
        if user.contains(" ") { return "contains a space; give one account name, like 'deploy'" }
        if user.contains("@") { return "holds a host; put the host in 'address' and only the account name here" }
        if user.contains(":") {
            return "contains ':'; give only the account name (devsys signs in with a key file, never a password)"
        }
        if user.hasPrefix("-") { return "starts with '-'; give an account name, like 'deploy'" }
        return nil
    }

    /// Why `path` cannot be the path of a key file or a known_hosts file on the controller's
    /// machine (only a leading `~/` is expanded).
    public static func keyFileProblem(_ path: String) -> String? {
        if path.isEmpty { return "is empty; give the path of the file, or remove the line for the default" }
        if let control = firstControlCharacter(path) {
            return "contains the control character \(control); give the path of the file, like '~/.ssh/devsys_ed25519'"
        }
        return homeProblem(path)
    }

    /// `~name/…` is not expanded (only `~/…` is): it would name a folder called `~name`.
    private static func homeProblem(_ path: String) -> String? {
        guard path.hasPrefix("~"), !path.hasPrefix("~/") else { return nil }
        return "starts with '\(path.prefix { $0 != "/" })/', but devsys expands only '~/'; write '~/…' or an absolute path"
    }

    /// The first control character in `text`, escaped (`\n`, `\u{7F}`), or nil.
    private static func firstControlCharacter(_ text: String) -> String? {
        text.unicodeScalars.first { $0.properties.generalCategory == .control }.map { $0.escaped(asASCII: true) }
    }
}

extension String {
    /// The text between single quotes for a message, with control characters escaped so that a
    /// value holding a line break stays on the diagnostic's line.
    public var quotedForMessage: String {
        "'" + unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined() + "'"
    }
}
