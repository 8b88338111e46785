import Foundation

/// What a coding job carries besides its key: the feedback of the attempt before it (a failing
/// test report, merge conflicts), handed to the agent as `DEVSYS_FEEDBACK_FILE`.
struct CodingPayload: Codable, Sendable {
    var feedback: String?

    func encoded() -> Data {
        (try? JSONEncoder().encode(self)) ?? Data()
    }

    init(feedback: String?) {
        self.feedback = feedback
    }

    init(decoding data: Data) {
        feedback = (try? JSONDecoder().decode(CodingPayload.self, from: data))?.feedback
    }
}
