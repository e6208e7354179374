import Testing

@testable import RelayProviders

@Suite struct MediaTypeTests {
    @Test(arguments: [
        ([0xFF, 0xD8, 0xFF, 0xE0], MediaType.jpeg),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], .png),
        (Array("GIF89a".utf8), .gif),
        (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBP".utf8), .webp),
        ([0, 0, 0, 0x18] + Array("ftypmp42".utf8), .mp4),
        ([0, 0, 0, 0x14] + Array("ftypqt  ".utf8), .quicktime),
    ] as [([UInt8], MediaType)])
    func sniffsMagicBytes(bytes: [UInt8], type: MediaType) {
        #expect(MediaType.sniff(bytes) == type)
    }

    @Test func unknownOrShortContentIsNil() {
        #expect(MediaType.sniff(Array("<html>".utf8)) == nil)
        #expect(MediaType.sniff([0xFF]) == nil)
        #expect(MediaType.sniff(Array("RIFF....AVI ".utf8)) == nil)
    }

    @Test func claimedTypesIgnoreParametersAndAliases() {
        #expect(MediaType.claimed(by: "image/JPEG; charset=binary") == .jpeg)
        #expect(MediaType.claimed(by: "image/jpg") == .jpeg)
        #expect(MediaType.claimed(by: "text/html") == nil)
        #expect(MediaType.claimed(by: nil) == nil)
    }
}
