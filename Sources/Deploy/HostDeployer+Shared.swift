import Foundation

/// `shared` and `writable` paths of an app (devsys.yaml `apps.<app>.shared`, `writable`):
/// what lives in `<root>/<app>/shared/` and is linked into every revision before it can go live.
///
/// The links are made by the same command that completes an upload, so an app with shared
/// paths costs no extra round trip per deploy.
extension HostDeployer {
    /// A shared path without its trailing `/`, and whether it names a folder.
    struct SharedPath: Hashable {
        var path: String
        var isFolder: Bool

        init(_ configured: String) {
            isFolder = configured.hasSuffix("/")
            path = isFolder ? String(configured.dropLast()) : configured
        }

        /// The link's target, relative to the folder holding the link inside a revision:
        /// `revisions/<name>/a/b` → `../../../shared/a/b`.
        var linkTarget: String {
            let depth = path.split(separator: "/").count - 1
            return String(repeating: "../", count: depth + 2) + "shared/" + path
        }

        var parent: String? {
            guard let slash = path.lastIndex(of: "/") else { return nil }
            return String(path[..<slash])
        }
    }

    var sharedPaths: [SharedPath] { shared.map(SharedPath.init) }

    /// Commands (run in `<app>/revisions`) that take the shared links out of `folder`, a copy of
    /// an earlier revision, before its changed paths are removed: `rm -rf` on a path inside a
    /// link would delete shared files. Empty without shared paths. One `rm` at most: on this
    /// path every program started costs a deploy milliseconds.
    func unlinkSharedScript(in folder: String) -> String {
        guard !sharedPaths.isEmpty else { return "" }
        let paths = sharedPaths.map { ShellWord.quote(folder + "/" + $0.path) }.joined(separator: " ")
        return "( set --; for p in \(paths); do if [ -L \"$p\" ]; then set -- \"$@\" \"$p\"; fi; done; [ $# -eq 0 ] || rm -f -- \"$@\" ) || exit 3"
    }

    /// Commands (run in `<app>/revisions`) that link each shared path into `folder` and apply
    /// `writable`. A shared path missing from `shared/` is created: from what the revision ships
    /// at that path on the first deploy, else empty (a folder for a trailing `/`, else a file).
    /// What the revision ships at a shared path afterwards is replaced by the link. Exit 7 on
    /// failure. Empty when there is nothing to do. Programs are started once for all paths (one
    /// `mkdir -p`, at most one `rm -rf`, one `ln -s` per folder holding links), not per path.
    func linkSharedScript(in folder: String) -> String {
        var lines: [String] = []
        if !sharedPaths.isEmpty {
            var folders: [String] = []
            for shared in sharedPaths {
                folders.append("../shared" + (shared.parent.map { "/" + $0 } ?? ""))
                if let parent = shared.parent { folders.append(folder + "/" + parent) }
            }
            lines.append("mkdir -p \(Self.unique(folders).map(ShellWord.quote).joined(separator: " ")) || exit 7")
        }
        for shared in sharedPaths {
            let inShared = ShellWord.quote("../shared/" + shared.path)
            let inRevision = ShellWord.quote(folder + "/" + shared.path)
            let create = shared.isFolder ? "mkdir -p \(inShared)" : ": > \(inShared)"
            lines.append(
                """
                if [ ! -e \(inShared) ] && [ ! -L \(inShared) ]; then
                  if [ -e \(inRevision) ] && [ ! -L \(inRevision) ]; then mv \(inRevision) \(inShared); else \(create); fi || exit 7
                fi
                """
            )
        }
        if !sharedPaths.isEmpty {
            let paths = sharedPaths.map { ShellWord.quote(folder + "/" + $0.path) }.joined(separator: " ")
            lines.append(
                "( set --; for p in \(paths); do if [ -e \"$p\" ] || [ -L \"$p\" ]; then set -- \"$@\" \"$p\"; fi; done; [ $# -eq 0 ] || rm -rf -- \"$@\" ) || exit 7"
            )
            // `ln -s TARGET… FOLDER` names each link after its target's last component.
            var byFolder: [String: [String]] = [:]
            var order: [String] = []
            for shared in sharedPaths {
                let linkFolder = folder + (shared.parent.map { "/" + $0 } ?? "")
                if byFolder[linkFolder] == nil { order.append(linkFolder) }
                byFolder[linkFolder, default: []].append(shared.linkTarget)
            }
            for linkFolder in order {
                let targets = byFolder[linkFolder, default: []].map(ShellWord.quote).joined(separator: " ")
                lines.append("ln -s \(targets) \(ShellWord.quote(linkFolder)) || exit 7")
            }
        }
        for configured in writable {
            let writable = SharedPath(configured)
            // Inside a shared path: the shared copy is what the app writes to.
            let isShared = sharedPaths.contains { writable.path == $0.path || writable.path.hasPrefix($0.path + "/") }
            let target = ShellWord.quote((isShared ? "../shared/" : folder + "/") + writable.path)
            // Shared folders can be large: only their top is changed, once per deploy.
            let chmod = "chmod \(isShared ? "" : "-R ")ug+rwX \(target) || exit 7"
            lines.append(writable.isFolder ? "mkdir -p \(target) || exit 7\n" + chmod : "if [ -e \(target) ]; then \(chmod); fi")
        }
        return lines.joined(separator: "\n")
    }

    private static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
