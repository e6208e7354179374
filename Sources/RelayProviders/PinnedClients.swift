import AsyncHTTPClient
import NIOCore
import Synchronization

/// HTTP clients pinned to the address a host name was approved at, kept per name and address.
///
/// `AddressPolicy` checks every address a name resolves to, but AsyncHTTPClient resolves the name again to
/// connect: a name that answers differently in between (DNS rebinding) would take the request inside the
/// network. A client of this pool maps the name to the approved address (`dnsOverride`; TLS still verifies
/// the certificate for the name), and is kept, so that the requests to one host reuse their connections.
/// Past `capacity` pairs a request gets a client of its own, shut down when it is released. The callback
/// worker delivers through it; the media fetcher pins each fetch with a client of its own (`oneOff`).
public final class PinnedClients: Sendable {
    /// The client for one request: `release()` it once the response is read.
    public struct Lease: Sendable {
        public let client: HTTPClient
        /// Made for this request alone (the pool was full): shut down on release.
        let owned: Bool

        public func release() {
            guard owned else { return }
            let client = self.client
            Task { try? await client.shutdown() }
        }
    }

    struct Key: Hashable {
        let host: String
        let address: String
    }

    private let capacity: Int
    private let clients = Mutex<[Key: HTTPClient]>([:])

    public init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// A client whose connections to `host` go to `address`.
    public func lease(host: String, address: String) -> Lease {
        let key = Key(host: host, address: address)
        return clients.withLock { clients in
            if let kept = clients[key] { return Lease(client: kept, owned: false) }
            guard clients.count < capacity else { return Self.oneOff(host: host, address: address) }
            let client = Self.makeClient(host: host, address: address)
            clients[key] = client
            return Lease(client: client, owned: false)
        }
    }

    /// A pinned client for one request alone, shut down on release (the media fetcher pins each fetch so).
    static func oneOff(host: String, address: String) -> Lease {
        Lease(client: makeClient(host: host, address: address), owned: true)
    }

    private static func makeClient(host: String, address: String) -> HTTPClient {
        var configuration = HTTPClient.Configuration.relay()
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        configuration.dnsOverride = [host: address]
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Shuts down the kept clients (when the worker using them stops).
    public func shutdown() async {
        let kept = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in kept { try? await client.shutdown() }
    }
}
