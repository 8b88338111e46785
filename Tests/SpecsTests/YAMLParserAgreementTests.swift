import Foundation
import TestSupport
import Testing

@testable import Specs

/// The fast parser must read every file it accepts exactly as libyaml does — values, styles,
/// lines and columns — and hand everything else to libyaml.
@Suite("fast YAML parser agrees with libyaml")
struct YAMLParserAgreementTests {
    static let handled: [String] = [
        Fixtures.taskYAML, Fixtures.devsysYAML.replacingOccurrences(of: "url: http://127.0.0.1:8080 }", with: "url: x }"),
        "a: 1\nb: two words  # comment\nc: 'single ''quoted'''\nd: \"esc \\t \\u00e9 \\x41 \\\\ \\\" \\/ \\N \\_ \\L \\P \\U0001F600\"\n",
        "a:\n  b:\n    c: d\n  e: f\ng: h\n",
        "list:\n- a\n- b\nnext: 1\n",
        "list:\n  - a\n  -   b\n  - c: d\n    e: f\n  -\n    g: h\n  -\n  - \n",
        "- a\n- b: c\n  d: [e, f]\n- {g: h}\n",
        "flow: {a: [1, 2, {b: c}], 'd': \"e\", f: }\nx: [ ]\ny: { }\n",
        "multi: { a: 1,\n   b: 2 ,\n   c: [x,\n       y] }\nz: 1\n",
        "text: café — naïve 日本 🎉\nkey é: v\n'é': \"ü\"\n",
        "a: |\n  line one\n    indented\n\n  line three\nb: >\n  folded\n  text\n\n  para\n    more\n  end\nc: |-\n  strip\n\nd: |+\n  keep\n\n\ne: >-\n  x\n",
        "a: |\n  last without newline",
        "a: b:c\nurl: http://x:8080/y\nhash: a#b\ncolon: 'a: b'\n",
        "   indented: top\n   other: 2\n",
        "empty:\nnull: ~\nnested:\n  # comment\n  k: v\n",
        "k: -1\nn: -foo\nm: 1.5e+3\n",
        "seq: [a b, c  d , 'e' ]\n",
        "# leading comment\n\na: 1 # trailing\n# between\nb: 2\n\n# end\n",
        "",
        "# only comments\n",
    ]

    @Test("hand-picked files: accepted and read exactly as libyaml reads them")
    func handPicked() {
        for (index, text) in YAMLParserAgreementTests.handled.enumerated() {
            let bytes = Array(text.utf8)
            let agreement = fastParserAgreement(bytes)
            #expect(agreement == .agreed, "case \(index): \(text.debugDescription)")
        }
    }

    @Test("the realistic task specs of the benchmark all stay on the fast path")
    func fastPathCoverage() {
        for text in [Fixtures.taskYAML, Fixtures.checksYAML, Fixtures.spec(id: "001-a", extra: "story: >\n  long\n  story\n")] {
            let outcome = Array(text.utf8).withUnsafeBufferPointer { FastYAMLParser.parse($0, isASCII: true) }
            guard case .document = outcome else {
                Issue.record("fell back to libyaml: \(text)")
                continue
            }
        }
    }

    @Test(
        "anything outside the subset goes to libyaml",
        arguments: [
            "a: &x 1\nb: *x\n", "a: !!str 1\n", "---\na: 1\n", "a:\n\tb: 1\n", "a: 1\r\nb: 2\r\n", "a: multi\n  line\n",
            "? complex\n: key\n", "a: \"multi\n  line\"\n", "a: |2\n   x\n", "%YAML 1.1\n---\na: 1\n", "[a, b]\n", "scalar\n",
            "a: [x,]\n", "a: {b}\n", "a: [b: c]\n", "a: b: c\n",
        ]
    )
    func declined(text: String) {
        let outcome = Array(text.utf8).withUnsafeBufferPointer { buffer -> FastYAMLParser.Outcome in
            let survey = TextSurvey(buffer)
            return survey.fitsFastParser ? FastYAMLParser.parse(buffer, isASCII: survey.isASCII) : .unsupported
        }
        guard case .unsupported = outcome else {
            Issue.record("fast parser accepted \(text.debugDescription)")
            return
        }
    }

    @Test("20,000 mutated files: where the fast parser answers, libyaml answers the same")
    func differentialFuzz() {
        var rng = SeededGenerator(seed: 0xD1FF)
        let seeds = (YAMLParserAgreementTests.handled + [Fixtures.checksYAML]).map { Array($0.utf8) }
        var compared = 0
        for index in 0..<20_000 {
            let input = Mutator.mutate(seeds[index % seeds.count], using: &rng)
            switch fastParserAgreement(input) {
            case .declined: break
            case .agreed: compared += 1
            case .disagreed(let problem):
                Issue.record("input \(index) \(String(decoding: input, as: UTF8.self).debugDescription): \(problem)")
                return
            }
        }
        // Most damage still leaves valid YAML of the subset: the comparison must have had work to do.
        #expect(compared > 5_000, "only \(compared) of 20,000 mutated files were read by the fast parser")
    }
}
