import Testing

@testable import RelayCore

@Suite struct OperationTests {
    @Test func everySeedRouteMatchesItsOperation() {
        for operation in Operation.allCases {
            let concrete = operation.rawValue
                .replacingOccurrences(of: "{board_id}", with: "1234")
                .replacingOccurrences(of: "{playlist_id}", with: "PLx")
            #expect(MatchedOperation.match(concrete)?.operation == operation, "\(concrete)")
        }
    }

    @Test func pathParametersAreCaptured() throws {
        let pin = try #require(MatchedOperation.match("pinterest/board/987654/pin"))
        #expect(pin.operation == .pinterestPin)
        #expect(pin.parameters == ["board_id": "987654"])
        #expect(pin.path == "pinterest/board/987654/pin")
        let playlist = try #require(MatchedOperation.match("youtube/playlist/PL123/video"))
        #expect(playlist.parameters["playlist_id"] == "PL123")
    }

    @Test(arguments: ["twitter/tweet", "twitter", "twitter/post/extra", "twitter//post", "", "pinterest/board//pin"])
    func unknownPathsDoNotMatch(path: String) {
        #expect(MatchedOperation.match(path) == nil)
    }

    @Test func objectsProvidersAndDefaults() {
        #expect(Operation.twitterPost.provider == .twitter)
        #expect(Operation.twitterPicture.object == "picture")
        #expect(Operation.youtubeChannelSection.object == "section")
        #expect(Operation.twitterVideo.isAsynchronousByDefault)
        #expect(Operation.youtubeVideo.isAsynchronousByDefault)
        #expect(!Operation.twitterPost.isAsynchronousByDefault)
        #expect(!Operation.facebookPageVideo.isAsynchronousByDefault)
    }

    @Test(arguments: Operation.allCases)
    func providerIsTheRoutesFirstSegment(operation: Operation) {
        #expect(operation.provider.rawValue == operation.rawValue.split(separator: "/").first.map(String.init))
    }

    @Test func removedFacebookRoutesCarryANotice() {
        let removed = Operation.allCases.filter { $0.removalNotice != nil }
        #expect(
            Set(removed)
                == [.facebookPost, .facebookPicture, .facebookVideo, .facebookGroupPost, .facebookGroupPicture, .facebookGroupVideo])
        #expect(Operation.facebookGroupPost.removalNotice?.contains("Groups API") == true)
    }
}
