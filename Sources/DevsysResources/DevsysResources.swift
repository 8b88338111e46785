import Foundation

/// Files that ship inside the devsys binary's resource bundle.
public enum DevsysResources {
    /// The folder `devsys init` copies into a new control repository.
    public static var repositoryTemplate: URL {
        Bundle.module.url(forResource: "repo-template", withExtension: nil)!
    }

    /// The folder of git hooks (`pre-receive`, `pre-commit`, …) that `devsys hooks install` installs.
    public static var hooks: URL {
        Bundle.module.url(forResource: "hooks", withExtension: nil)!
    }

    /// The PHP host kit (`deploy/` in the source tree): `php-router.php`, the nginx site, the sshd
    /// template, the provisioning script.
    public static var hostKit: URL {
        Bundle.module.url(forResource: "host-kit", withExtension: nil)!
    }
}
