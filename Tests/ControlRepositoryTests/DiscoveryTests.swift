import Foundation
import Testing

@testable import ControlRepository

/// Which `origin` URLs name a repository on this machine, as git reads them.
@Suite struct DiscoveryTests {
    @Test(arguments: [
        ("/srv/git/blog.git", "/srv/git/blog.git"),
        ("../blog.git", "../blog.git"),
        ("blog.git", "blog.git"),
        ("file:///srv/git/blog.git", "/srv/git/blog.git"),
        ("file:///srv/git/my%20blog.git", "/srv/git/my blog.git"),
        ("./a:b/blog.git", "./a:b/blog.git"),
    ])
    func localPathsAndFileURLsAreOnThisMachine(url: String, path: String) {
        #expect(ControlRepository.localPath(ofRemoteURL: url) == path)
    }

    @Test(arguments: ["git@example.com:team/blog.git", "example.com:blog.git", "ssh://git@example.com/blog.git", "https://example.com/blog.git"])
    func networkURLsAreNot(url: String) {
        #expect(ControlRepository.localPath(ofRemoteURL: url) == nil)
    }
}
