import Testing

@testable import RelayCore

@Suite struct PushRequestParserTests {
    func parse(_ json: String, path: String = "twitter/post") throws(RelayError) -> PublishRequest {
        let body = try JSONValue.parse(Array(json.utf8))
        return try PushRequestParser.parse(body, route: MatchedOperation.match(path)!)
    }

    func error(_ json: String, path: String = "twitter/post") -> RelayError? {
        do {
            _ = try parse(json, path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func postWithMessageAndNumericAttachments() throws {
        let request = try parse(#"{"request":{"push":{"post":{"message":"Hi","attachments":[1880000000000000001,"42"],"location":""}}}}"#)
        #expect(request.content == .post(PostContent(message: "Hi", attachments: ["1880000000000000001", "42"])))
    }

    @Test func emptyOptionalFieldsCountAsAbsent() throws {
        let request = try parse(#"{"request":{"push":{"post":{"message":"Hi","attachments":[],"location":null}}}}"#)
        #expect(request.content == .post(PostContent(message: "Hi")))
    }

    @Test func postNeedsMessageOrAttachments() {
        #expect(error(#"{"request":{"push":{"post":{"message":""}}}}"#)?.info.contains("request.push.post.message is required") == true)
    }

    @Test func wrongTypesNameTheField() {
        let message = error(#"{"request":{"push":{"post":{"message":12}}}}"#)
        #expect(message?.status == 400)
        #expect(message?.info.contains("request.push.post.message") == true)
        let attachments = error(#"{"request":{"push":{"post":{"message":"x","attachments":"123"}}}}"#)
        #expect(attachments?.status == 400)
        #expect(attachments?.info.contains("attachments") == true)
    }

    @Test func missingEnvelopeLevels() {
        #expect(error(#"{"push":{}}"#)?.info.contains("request") == true)
        #expect(error(#"{"request":{}}"#)?.info.contains("request.push") == true)
        #expect(error(#"[1,2]"#)?.status == 400)
    }

    @Test func moreThanFourAttachmentsIsRefused() {
        #expect(error(#"{"request":{"push":{"post":{"attachments":["1","2","3","4","5"]}}}}"#)?.info.contains("at most 4") == true)
    }

    @Test func pictureNeedsAnHTTPURL() throws {
        let request = try parse(#"{"request":{"push":{"picture":{"url":"https://example.com/a.jpg","description":"d"}}}}"#, path: "twitter/picture")
        guard case .picture(let picture) = request.content else { Issue.record("not a picture"); return }
        #expect(picture.url == "https://example.com/a.jpg")
        #expect(picture.description == "d")
        #expect(error(#"{"request":{"push":{"picture":{"url":"ftp://example.com/a.jpg"}}}}"#, path: "twitter/picture")?.status == 400)
        #expect(error(#"{"request":{"push":{"picture":{}}}}"#, path: "twitter/picture")?.info.contains("url") == true)
    }

    /// A URL no client could connect to is refused when it is given, not when the relay or a provider tries it.
    @Test func urlsAreCheckedAndTheirSchemeLowered() throws {
        func picture(_ url: String) throws(RelayError) -> String? {
            let request = try parse(#"{"request":{"callback_url":"\#(url)","push":{"picture":{"url":"\#(url)"}}}}"#, path: "twitter/picture")
            guard case .picture(let picture) = request.content else { return nil }
            #expect(request.callbackURL == picture.url)
            return picture.url
        }
        #expect(try picture("HTTPS://Example.com/A.jpg") == "https://Example.com/A.jpg")
        #expect(try picture("https://bücher.de/a.jpg") == "https://bücher.de/a.jpg")
        #expect(try picture("https://example.com.:8443/a.jpg") == "https://example.com.:8443/a.jpg")
        #expect(try picture("http://[2001:db8::1]/a.jpg") == "http://[2001:db8::1]/a.jpg")
        let refused: [(String, String)] = [
            ("https://example.com:99999/a.jpg", "port 99999"), ("https://example.com:0/a.jpg", "port 0"),
            ("https://user:secret@example.com/a.jpg", "user name or password"), ("https://@example.com/a.jpg", "user name"),
            ("https://example..com/a.jpg", "host name"), ("https://./a.jpg", "host name"),
            ("https://\(String(repeating: "a", count: 64)).com/a.jpg", "host name"),
            ("https://example.com/\(String(repeating: "a", count: FieldReader.maximumURLLength))", "URLs are at most 4096"),
        ]
        for (url, words) in refused {
            let info = error(#"{"request":{"push":{"picture":{"url":"\#(url)"}}}}"#, path: "twitter/picture")?.info
            #expect(info?.contains("request.push.picture.url") == true && info?.contains(words) == true, "\(url): \(info ?? "accepted")")
        }
    }

    @Test func videoAcceptsVideoURLOrURLAndItsCallback() throws {
        let request = try parse(
            #"{"request":{"push":{"video":{"video_url":"https://example.com/v.mp4","callback_url":"https://hooks.example.com/x"}}}}"#,
            path: "twitter/video")
        #expect(request.content == .video(VideoContent(url: "https://example.com/v.mp4")))
        #expect(request.callbackURL == "https://hooks.example.com/x")
        let alias = try parse(#"{"request":{"push":{"video":{"url":"https://example.com/v.mp4"}}}}"#, path: "twitter/video")
        #expect(alias.content == .video(VideoContent(url: "https://example.com/v.mp4")))
    }

    @Test func scheduleMustBeRFC3339() throws {
        let request = try parse(#"{"request":{"schedule":{"at":"2030-01-02T03:04:05Z"},"push":{"post":{"message":"later"}}}}"#)
        #expect(request.scheduledAt == RFC3339.parse("2030-01-02T03:04:05Z"))
        #expect(error(#"{"request":{"schedule":{"at":"tomorrow"},"push":{"post":{"message":"x"}}}}"#)?.info.contains("RFC 3339") == true)
    }

}
