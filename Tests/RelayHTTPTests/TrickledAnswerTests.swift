import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import RelayCore
import RelayProviders
import Testing
import TestSupport

import RelayEngine

/// Answers are read until the call's deadline, not until they end: AsyncHTTPClient's read timeout restarts
/// with every byte, and a subscriber trickling its body held a delivery slot for hours (seen by hand: a
/// callback `delivering` for minutes, and a SIGTERM that waited for it); a provider could hold a worker so.
@Suite struct TrickledAnswerTests {
    @Test func aTrickledAnswerIsGivenUpAtTheDeadline() async throws {
        let closed = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)
        let server = try await TricklingServer.start(closed: closed)
        defer { server.stop() }
        let port = server.port
        // A read timeout of ten minutes: only the answer's deadline can end the body within this test.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(600))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { Task { try? await client.shutdown() } }
        let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/hook"), timeout: .seconds(10))
        #expect(response.status == .ok)
        let deadline = ContinuousClock.now + .milliseconds(300)
        // Raced against 45 s, a deadline for a failing test (the read would otherwise wait ten minutes).
        let outcome = try await withThrowingTaskGroup(of: String.self) { tasks in
            tasks.addTask {
                do {
                    _ = try await response.body.collect(upTo: 64 << 10, until: deadline)
                    return "read whole"
                } catch is AnswerDeadlineExceeded {
                    return "given up at the deadline"
                } catch {
                    return "failed: \(error)"
                }
            }
            tasks.addTask {
                try await Task.sleep(until: .now + .seconds(45))
                return "still reading after 45 s"
            }
            defer { tasks.cancelAll() }
            return try await tasks.next()!
        }
        #expect(outcome == "given up at the deadline")
        // The request was given up with the body: its connection is closed.
        #expect((try? await closed.futureResult.get()) != nil)
    }

    /// Through the relay and PostgreSQL: a publish whose `callback_url` answers 200 and then trickles its body
    /// gets its callback recorded `delivered` within the delivery's deadline (15 s; before, it stayed
    /// `delivering` until the body ended, hours later).
    @Test func aTricklingSubscriberIsRecordedDelivered() async throws {
        let env = try await TestEnvironment.shared.value
        let closed = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)
        let server = try await TricklingServer.start(closed: closed)
        defer { server.stop() }
        let port = server.port
        let identity = try await env.connectIdentity()
        let url = "http://127.0.0.1:\(port)/hook"
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"callback_url":"\#(url)","push":{"post":{"message":"trickled \#(UUID())"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id").flatMap(UUID.init(uuidString:)))
        // The relay gives up on the answer at the deadline and closes the connection (within 45 s: a deadline
        // for a failing test). In full runs it once seemed not to: a PostgreSQL cluster another test started
        // meanwhile had inherited the relay's socket (`SpawnedDescriptors`) ...
        let closedByRelay = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { (try? await closed.futureResult.get()) != nil }
            tasks.addTask {
                try await Task.sleep(until: .now + .seconds(45))
                closed.fail(CancellationError())  // ends the other task's wait, which no cancellation does
                return false
            }
            defer { tasks.cancelAll() }
            return try await tasks.next()!
        }
        #expect(closedByRelay, "the relay kept the connection to the trickling subscriber open")
        // ... and records the delivery (read until it shows, within a deadline).
        let deadline = ContinuousClock.now + .seconds(30)
        var state = ""
        repeat {
            // The callback_url's callback only: other tests' subscriptions get this event's outcome too.
            let rows = try await env.store.client.query("SELECT state FROM callbacks WHERE event_id = \(eventID) AND url = \(url)")
            for try await value in rows.decode(String.self) { state = value }
        } while state != "delivered" && ContinuousClock.now < deadline
        #expect(state == "delivered")
        let rows = try await env.store.client.query(
            "SELECT a.http_status, a.error FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.event_id = \(eventID) AND c.url = \(url)")
        for try await (status, error) in rows.decode((Int?, String?).self) {
            #expect(status == 200)
            #expect(error?.contains("did not end within the delivery's time") == true, "\(error ?? "nil")")
        }
    }

    /// A provider trickling its answer to the call that publishes: the try ends when the call's time is up,
    /// as `indeterminate` (the post may have been made), the call recorded as an answer lost. Before, the body
    /// was read until AsyncHTTPClient's read timeout, which each byte restarts.
    @Test func aProviderTricklingItsAnswerIsGivenUpWhenTheCallsTimeIsUp() async throws {
        let env = try await TestEnvironment.shared.value
        let server = try await TricklingServer.start()
        defer { server.stop() }
        // Without the call's deadline on the body, the read timeout ends it instead (another sentence), after 10 s.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { Task { try? await http.shutdown() } }
        let session = ProviderSession(
            http: http, media: MediaFetcher(http: http, policy: AddressPolicy(allowPrivate: true)), logger: env.logger,
            saveProgress: { _, _ in })
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/2/tweets")
        request.method = .POST
        do {
            _ = try await session.call(ProviderStep("create tweet", publishes: true), request, provider: .twitter, timeout: .seconds(3)) { _, _ in
                ResponseClassification(kind: .success, message: "OK", replyStatus: 200)
            }
            Issue.record("a trickled answer was read to its end")
        } catch {
            guard case .indeterminate(let relayError) = error.outcome else {
                Issue.record("not indeterminate: \(error.outcome)")
                return
            }
            #expect(relayError.info.contains("its answer had not ended when the call's time was up"), "\(relayError.info)")
        }
        let attempts = session.takeAttempts()
        #expect(attempts.map(\.outcome) == [.answerLost])
    }

    @Test func aWholeAnswerIsReadAsItIs() async throws {
        let env = try await TestEnvironment.shared.value
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { try? await client.shutdown() } }
        let response = try await client.execute(HTTPClientRequest(url: env.baseURL + "/healthz"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 10, until: ContinuousClock.now + .seconds(10))
        #expect(String(buffer: body).contains(#""status":"ok""#))
    }
}
