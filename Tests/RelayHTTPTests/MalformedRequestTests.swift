import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RelayCore
import Testing
import TestSupport

/// Requests the HTTP decoder refuses before any route sees them are answered in the envelope, with 431 for a
/// head that is too large (it was Hummingbird's empty 400), and the connection is closed.
@Suite struct MalformedRequestTests {
    @Test func aHeadTooLargeIs431InTheEnvelope() async throws {
        let env = try await TestEnvironment.shared.value
        let cookie = String(repeating: "c", count: 100_000)
        let text = try await RawExchange.exchange(Array("GET /healthz HTTP/1.1\r\nHost: relay\r\nCookie: \(cookie)\r\n\r\n".utf8), with: env.baseURL)
        let reply = try RawExchange.firstResponse(text)
        #expect(reply.status == 431, "\(text.prefix(300))")
        #expect(reply.head.lowercased().contains("connection: close"))
        #expect(reply.body["response"]?["request"]?["status"]?["code"] == 431)
        #expect(reply.body["response"]?["request"]?["status"]?["flag"] == "error")
        #expect(reply.body["response"]?["request"]?["status"]?["info"]?.stringValue?.contains("larger than 80 kB") == true)
        // The relay goes on serving.
        #expect(try await env.send(.GET, "/healthz", authenticated: false).status == 200)
    }

    /// On the API's listener and on the metrics one (`PUSHRELAY_METRICS_PORT`).
    @Test func aRequestThatIsNotHTTPIs400InTheEnvelope() async throws {
        let env = try await TestEnvironment.shared.value
        let ready = try await env.startSecondRelayReady { $0.metricsPort = 0 }
        let monitoring = "http://127.0.0.1:\(try #require(ready.metricsPort))"
        for base in [env.baseURL, monitoring] {
            let text = try await RawExchange.exchange(Array("HELLO THERE\r\n\r\n".utf8), with: base)
            let reply = try RawExchange.firstResponse(text)
            #expect(reply.status == 400, "\(base): \(text.prefix(300))")
            #expect(reply.body["response"]?["request"]?["status"]?["code"] == 400)
            #expect(reply.body["response"]?["request"]?["status"]?["info"]?.stringValue?.contains("not valid HTTP/1.1") == true)
        }
    }

    /// Garbage that arrives once a first answer is out, while a second request (a long poll) is still being
    /// answered, waits for that answer: the relay answers it, then refuses the garbage.
    @Test func aMalformedRequestDuringALongPollWaitsForItsAnswer() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let scheduled = try await env.push(
            identity, "twitter/post", #"{"request":{"schedule":{"at":"2099-01-01T00:00:00Z"},"push":{"post":{"message":"later \#(UUID())"}}}}"#)
        let eventID = try #require(scheduled.json["response"]?["result"]?["data"]?["event_id"]?.stringValue)
        let credentials = Data("\(env.apiKey.publicKey):\(env.apiKey.privateKey)".utf8).base64EncodedString()
        let requests = "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n"
            + "GET /push/events/\(eventID).json?wait=1 HTTP/1.1\r\nHost: relay\r\nAuthorization: Basic \(credentials)\r\n\r\n"
        let text = try await RawExchange.exchange(Array(requests.utf8), then: Array("HELLO THERE\r\n\r\n".utf8), with: env.baseURL)
        let health = try RawExchange.firstResponse(text)
        #expect(health.status == 200, "\(text)")
        let poll = try RawExchange.firstResponse(health.rest)
        #expect(poll.status == 200, "\(text)")
        #expect(poll.body["response"]?["result"]?["data"]?["state"] == "scheduled")
        #expect(poll.rest.hasPrefix("HTTP/1.1 400 "), "\(text)")
    }

    /// A malformed request after valid ones on the same connection (pipelined) does not cut into their answers.
    @Test func aMalformedRequestAfterValidOnesLeavesTheirAnswersWhole() async throws {
        let env = try await TestEnvironment.shared.value
        let valid = "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n"
        for count in 1...3 {
            let text = try await RawExchange.exchange(Array((String(repeating: valid, count: count) + "HELLO THERE\r\n\r\n").utf8), with: env.baseURL)
            var rest = text
            for _ in 0..<count {
                let answer = try RawExchange.firstResponse(rest)
                #expect(answer.status == 200, "\(text)")
                #expect(answer.body["response"]?["request"]?["status"]?["code"] == 200)
                rest = answer.rest
            }
            #expect(rest.hasPrefix("HTTP/1.1 400 "), "\(text)")
        }
    }
}
