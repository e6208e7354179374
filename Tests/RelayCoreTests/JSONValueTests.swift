import Foundation
import Testing

@testable import RelayCore

@Suite struct JSONValueTests {
    @Test func keepsKeyOrderAndExactIntegers() throws {
        let text = #"{"z":1,"a":9007199254740993,"m":[true,null,1.5,"é\n"]}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value.objectMembers?.map(\.0) == ["z", "a", "m"])
        #expect(value["a"] == .integer(9_007_199_254_740_993))
        #expect(value.serialized() == #"{"z":1,"a":9007199254740993,"m":[true,null,1.5,"é\n"]}"#)
    }

    @Test func unicodeEscapesAndSurrogatePairs() throws {
        let value = try JSONValue.parse(Array(#"["\u00e9\ud83d\ude00"]"#.utf8))
        #expect(value == .array([.string("é😀")]))
    }

    @Test(arguments: ["", "{", #"{"a":}"#, "[1,]", #"{"a" 1}"#, "nul", "01", #""\x""#, "1 2", #"{"a":1}}"#])
    func malformedDocumentsAre400(text: String) {
        #expect(throws: RelayError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func stringsWithAndWithoutEscapesKeepTheirText() throws {
        let value = try JSONValue.parse(Array(#"{"plain":"café 🚀","escaped":"a\/b\"c\\d\n\u00e9 end","tail":"x\t"}"#.utf8))
        #expect(value == ["plain": "café 🚀", "escaped": "a/b\"c\\d\né end", "tail": "x\t"])
    }

    /// Bytes that are not UTF-8 are refused inside a string, whether the string holds escapes or not.
    @Test(arguments: [[0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x0A, 0x22]])
    func malformedStringBytesAre400(bytes: [UInt8]) {
        #expect(throws: RelayError.self) { try JSONValue.parse(bytes) }
    }

    @Test func deeplyNestedDocumentsAreRefused() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: RelayError.badRequest("The request body nests arrays and objects more than 256 levels deep")) {
            try JSONValue.parse(Array(text.utf8))
        }
        let deepest = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(throws: Never.self) { try JSONValue.parse(Array(deepest.utf8)) }
    }

    /// `parseStorable` (inbound requests) refuses what PostgreSQL's jsonb cannot keep as sent, each with its own
    /// sentence; `parse` (providers' replies) reads the same documents.
    @Test func documentsThatJSONBCannotKeep() throws {
        let nul = RelayError.badRequest(#"The webhook contains \u0000 (the NUL character), which PushRelay cannot store; remove it"#)
        let huge = RelayError.badRequest("The webhook contains a number beyond the range of a double (about ±1.8e308)")
        #expect(throws: nul) { try JSONValue.parseStorable(Array(#"{"m":"a\u0000b"}"#.utf8), what: "The webhook") }
        #expect(throws: nul) { try JSONValue.parseStorable(Array(#"{"\u0000":1}"#.utf8), what: "The webhook") }
        #expect(throws: huge) { try JSONValue.parseStorable(Array(#"[-1e309]"#.utf8), what: "The webhook") }
        #expect(try JSONValue.parse(Array(#"{"m":"a\u0000b"}"#.utf8)) == ["m": "a\u{0}b"])
        #expect(try JSONValue.parse(Array(#"[1e400]"#.utf8)) == [.double(.infinity)])
        let kept = try JSONValue.parseStorable(Array(#"{"m":"\u0001\u001f","x":1.7e308,"y":-0}"#.utf8))
        #expect(kept == ["m": "\u{01}\u{1F}", "x": .double(1.7e308), "y": 0])
    }

    @Test func aLeadingByteOrderMarkIsIgnored() throws {
        #expect(try JSONValue.parseStorable([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)) == ["a": 1])
        #expect(throws: RelayError.self) { try JSONValue.parse(Array(#"{"a":1}"#.utf8) + [0xEF, 0xBB, 0xBF]) }
        #expect(throws: RelayError.badRequest("The request body is empty; a JSON document was expected")) {
            try JSONValue.parse([0xEF, 0xBB, 0xBF, 0x20])
        }
    }

    @Test func settingAndRemovingKeepOrder() {
        let value: JSONValue = ["a": 1, "b": 2, "c": 3]
        #expect(value.setting("b", to: "x").serialized() == #"{"a":1,"b":"x","c":3}"#)
        #expect(value.removing("a").serialized() == #"{"b":2,"c":3}"#)
        #expect(value.setting("d", to: nil).serialized() == #"{"a":1,"b":2,"c":3,"d":null}"#)
    }

    @Test func stringsAreEscapedAndRoundTrip() throws {
        let text = "a\"b\\c\td\u{01}e\u{1F}f é 🚀 end"
        let serialized = JSONValue.string(text).serialized()
        #expect(serialized == #""a\"b\\c\td\u0001e\u001ff é 🚀 end""#)
        #expect(try JSONValue.parse(Array(serialized.utf8)) == .string(text))
        #expect(JSONValue.string("plain").serialized() == #""plain""#)
    }
}
