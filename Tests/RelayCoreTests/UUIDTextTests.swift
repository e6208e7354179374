import Foundation
import Testing

@testable import RelayCore

/// `UUID+Text` must agree with Foundation's own reading and writing, which it replaces on the hot path.
@Suite struct UUIDTextTests {
    @Test func writesWhatFoundationWritesInLowerCase() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
        #expect(UUID(uuid: (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255)).lowercasedString == "00010203-0405-0607-0809-0a0b0c0d0eff")
    }

    @Test func readsWhatFoundationReads() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(UUID(text: id.uuidString) == id)
            #expect(UUID(text: id.uuidString.lowercased()) == id)
            #expect(UUID(text: Substring(id.lowercasedString)) == id)
        }
    }

    @Test(arguments: [
        "", "7f0c2a7e", "7f0c2a7e-3b1d-4c55-9a6e-1d2f3a4b5c6", "7f0c2a7e-3b1d-4c55-9a6e-1d2f3a4b5c6d0",
        "7f0c2a7e-3b1d-4c55-9a6e-1d2f3a4b5c6d-", "7f0c2a7e3b1d-4c55-9a6e-1d2f3a4b5c6d0", "7f0c2a7e-3b1d-4c55-9a6e_1d2f3a4b5c6d",
        "7f0c2a7g-3b1d-4c55-9a6e-1d2f3a4b5c6d", " 7f0c2a7e-3b1d-4c55-9a6e-1d2f3a4b5c6d", "7f0c2a7e-3b1d-4c55-9a6e-1d2f3a4b5c6é",
        "{7f0c2a7e-3b1d-4c55-9a6e-1d2f3a4b5c6d}", "7f0c2a7e--3b1d4c55-9a6e-1d2f3a4b5c6d",
    ])
    func refusesWhatFoundationRefuses(text: String) {
        #expect(UUID(uuidString: text) == nil)
        #expect(UUID(text: text) == nil)
    }

    @Test func randomIDsAreVersionFourVariantOneAndDistinct() {
        var seen = Set<UUID>()
        for _ in 0..<10_000 {
            let id = UUID.random()
            #expect(id.uuid.6 >> 4 == 4)
            #expect(id.uuid.8 >> 6 == 0b10)
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }
}
