import Foundation

/// The length X gives a tweet's text, by the rules of twitter-text (configuration v3), which X applies to
/// `POST /2/tweets`: at most 280 weighted characters.
///
/// Counting characters would refuse what X accepts (a link counts 23 whatever its length) and accept what X
/// refuses (a character of Chinese, Japanese or Korean counts 2). Each code point weighs 1 when it lies in
/// the ranges below (Latin, Greek, Cyrillic, Arabic, Hebrew, Indic scripts and most punctuation), else 2; an
/// emoji, however many code points it joins, weighs 2; an `http://` or `https://` link weighs 23. Links
/// written without a scheme (`example.com`), which X also counts as 23, are counted by their characters
/// here: the sandbox may refuse such a tweet that X would take, never the reverse.
enum TweetLength {
    static let maximum = 280
    static let linkLength = 23
    /// Code points that weigh 1 (twitter-text's `ranges`); every other weighs 2.
    static let lightRanges: [ClosedRange<UInt32>] = [0...4351, 8192...8205, 8208...8223, 8242...8247]

    /// The weighted length of `text` (after Unicode normalization, as X counts it).
    static func weighted(_ text: String) -> Int {
        let normalized = text.precomposedStringWithCanonicalMapping
        var length = 0
        var rest = normalized[...]
        while let link = rest.firstMatch(of: /https?:\/\/[^\s\/.]+\.[^\s]+/) {
            length += rest[..<link.range.lowerBound].reduce(0) { $0 + weight(of: $1) } + linkLength
            rest = rest[link.range.upperBound...]
        }
        return length + rest.reduce(0) { $0 + weight(of: $1) }
    }

    static func weight(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        let isEmoji = scalars.contains { $0.properties.isEmojiPresentation }
            || (scalars.count > 1 && scalars.first!.properties.isEmoji && scalars.contains { $0.value == 0xFE0F || $0.value == 0x20E3 })
        if isEmoji { return 2 }
        return scalars.reduce(0) { sum, scalar in sum + (lightRanges.contains { $0.contains(scalar.value) } ? 1 : 2) }
    }
}
