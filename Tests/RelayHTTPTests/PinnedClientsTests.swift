import AsyncHTTPClient
import Foundation
import NIOCore
import RelayProviders
import Testing
import TestSupport

/// A pinned client connects to the address it was given for a name, never to what the name resolves to.
@Suite struct PinnedClientsTests {
    @Test func requestsGoToTheApprovedAddress() async throws {
        let receiver = try await CallbackReceiver.start()
        let port = try #require(URLComponents(string: receiver.origin)?.port)
        let pinned = PinnedClients(capacity: 1)

        // `.invalid` names resolve nowhere (RFC 6761): only the pin can take the request to the receiver.
        let first = pinned.lease(host: "subscriber.invalid", address: "127.0.0.1")
        var request = HTTPClientRequest(url: "http://subscriber.invalid:\(port)/pinned")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"pinned":true}"#))
        let response = try await first.client.execute(request, timeout: .seconds(10))
        #expect(response.status == .ok)
        _ = try await response.body.collect(upTo: 1024)
        first.release()
        #expect(receiver.all().filter { $0.path == "/pinned" }.count == 1)

        // Kept for its name and address; past the capacity, a client of the request's own.
        let again = pinned.lease(host: "subscriber.invalid", address: "127.0.0.1")
        #expect(again.client === first.client)
        let other = pinned.lease(host: "other.invalid", address: "127.0.0.1")
        #expect(other.client !== first.client)
        other.release()
        again.release()
        await pinned.shutdown()

        // Without the pin the name is resolved, and goes nowhere.
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        await #expect(throws: (any Error).self) { _ = try await plain.execute(request, timeout: .seconds(10)) }
        try await plain.shutdown()
    }
}
