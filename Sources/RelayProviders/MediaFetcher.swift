import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RelayCore

/// Fetches media given by URL for providers that cannot fetch it themselves, as a stream.
///
/// Bounded memory whatever the size: bytes are pulled from the media server only as fast as the
/// provider upload consumes them. Before a byte goes to a provider the fetcher has checked the
/// address (`AddressPolicy`, on every redirect hop, at most 3), the size limit (declared and actual)
/// and the magic bytes against the claimed type.
public struct MediaFetcher: Sendable {
    /// How slow a media server may be: at least `minimumBytes` for every `window` spent waiting for it. The
    /// read timeout restarts with each byte, so a server sending one every ten seconds would otherwise hold
    /// a publish worker until the fetch's deadline (two hours). Time the upload spends between reads does not
    /// count: only the waits for the server.
    public struct StallRule: Sendable {
        public var window: Duration
        public var minimumBytes: Int

        public init(window: Duration = .seconds(60), minimumBytes: Int = 64 << 10) {
            self.window = window
            self.minimumBytes = minimumBytes
        }
    }

    public let http: HTTPClient
    public let policy: AddressPolicy
    public let stall: StallRule
    public static let maxRedirects = 3

    /// `http` must not follow redirects itself (`redirectConfiguration = .disallow`): the fetcher follows
    /// them, checking each hop's address.
    public init(http: HTTPClient, policy: AddressPolicy, stall: StallRule = StallRule()) {
        self.http = http
        self.policy = policy
        self.stall = stall
    }

    /// Opens the media at `url` (named `field` in errors) and checks it against `limits`.
    public func open(_ url: String, field: String, limits: MediaLimits) async throws(PublishStop) -> FetchedMedia {
        var current = url
        for hop in 0...Self.maxRedirects {
            guard let parsed = URL(string: current), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme)
            else {
                throw Self.refuse("\(field) must be an absolute http or https URL")
            }
            let pinned: PinnedClients.Lease
            do {
                pinned = try await client(for: parsed, field: field)
            } catch {
                throw PublishStop(.failed(error))
            }
            var request = HTTPClientRequest(url: current)
            request.method = .GET
            request.headers.add(name: "User-Agent", value: "PushRelay media fetcher")
            let response: HTTPClientResponse
            do {
                response = try await pinned.client.execute(request, timeout: .hours(2))
            } catch {
                pinned.release()
                throw Self.refuse("\(field) could not be fetched: \(ProviderSession.describe(error))")
            }
            let status = Int(response.status.code)
            if [301, 302, 303, 307, 308].contains(status) || status != 200 {
                pinned.release()  // the body is not read: this hop's connection is done
            }
            if [301, 302, 303, 307, 308].contains(status) {
                guard hop < Self.maxRedirects else {
                    throw Self.refuse("\(field) redirected more than \(Self.maxRedirects) times")
                }
                guard let location = response.headers.first(name: "location"),
                    let next = URL(string: location, relativeTo: parsed)?.absoluteString
                else {
                    throw Self.refuse("\(field) answered a redirect without a valid Location")
                }
                current = next
                continue
            }
            guard status == 200 else {
                throw Self.refuse("\(field) could not be fetched: the server answered HTTP \(status)")
            }
            let declared = response.headers.first(name: "content-length").flatMap(Int.init)
            if let declared, declared > limits.largest {
                throw Self.refuse(
                    "\(field) is \(declared) bytes, larger than the \(limits.largest)-byte limit for a \(limits.what)")
            }
            let media = FetchedMedia(
                body: response.body, declaredLength: declared, limit: limits.largest, field: field, client: pinned, stall: stall)
            let head = try await media.peek(12)
            guard let type = MediaType.sniff(head.readableBytesView) else {
                throw Self.refuse("\(field) is not a recognised media file (its first bytes match no known format)")
            }
            if let claimed = MediaType.claimed(by: response.headers.first(name: "content-type")), claimed != type {
                throw Self.refuse("\(field) claims to be \(claimed.mimeType) but its content is \(type.mimeType)")
            }
            guard let typeLimit = limits.types[type] else {
                let accepted = limits.types.keys.map(\.mimeType).sorted().joined(separator: ", ")
                throw Self.refuse("\(field) is \(type.mimeType); a \(limits.what) must be one of \(accepted)")
            }
            if let declared, declared > typeLimit {
                throw Self.refuse("\(field) is \(declared) bytes, larger than the \(typeLimit)-byte limit for \(type.mimeType)")
            }
            media.type = type
            media.limit = typeLimit
            return media
        }
        throw Self.refuse("\(field) redirected more than \(Self.maxRedirects) times")
    }

    /// The client for one hop. Where addresses are checked, it is pinned to the address the policy
    /// approved (AsyncHTTPClient's `dnsOverride`), so a name cannot resolve elsewhere between the check
    /// and the connection (DNS rebinding); TLS still verifies the certificate for the name.
    func client(for url: URL, field: String) async throws(RelayError) -> PinnedClients.Lease {
        guard let address = try await policy.approvedAddress(url, field: field), let host = url.host else {
            return PinnedClients.Lease(client: http, owned: false)
        }
        return PinnedClients.oneOff(host: host, address: address)
    }

    static func refuse(_ info: String) -> PublishStop {
        PublishStop(.failed(.badRequest(info)))
    }
}

/// An open media download: its type, declared size, and its bytes on demand.
///
/// Single consumer. Reading holds the chunk being handed out and at most the rest of one network buffer.
public final class FetchedMedia {
    public fileprivate(set) var type: MediaType = .jpeg
    public let declaredLength: Int?
    public let field: String
    fileprivate var limit: Int
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var pending = ByteBuffer()
    private var finished = false
    /// Bytes handed out so far.
    public private(set) var delivered = 0
    /// Bytes read from the network so far (handed out, or pending).
    private var received = 0

    /// The client the body streams through; released (shut down if it was made for this fetch) when done.
    private let client: PinnedClients.Lease
    private let stall: MediaFetcher.StallRule
    /// Time spent waiting for the server, and bytes it sent, since the stall rule's window began.
    private var waited: Duration = .zero
    private var receivedInWindow = 0

    init(
        body: HTTPClientResponse.Body, declaredLength: Int?, limit: Int, field: String, client: PinnedClients.Lease,
        stall: MediaFetcher.StallRule
    ) {
        self.iterator = body.makeAsyncIterator()
        self.declaredLength = declaredLength
        self.limit = limit
        self.field = field
        self.client = client
        self.stall = stall
    }

    deinit {
        client.release()
    }

    /// Buffers until at least `count` bytes are pending (or the body ends) and returns them without consuming.
    func peek(_ count: Int) async throws(PublishStop) -> ByteBuffer {
        while pending.readableBytes < count, var buffer = try await nextNetworkBuffer() { pending.writeBuffer(&buffer) }
        return pending.getSlice(at: pending.readerIndex, length: min(count, pending.readableBytes)) ?? ByteBuffer()
    }

    /// The next `size` bytes (fewer at the end), or nil when the media is exhausted.
    ///
    /// The chunk is written into a buffer of its own, allocated once at its size: what is kept between
    /// chunks is at most the rest of one network buffer, never a buffer that grew by doubling or that must
    /// be copied because a chunk handed out still shares it.
    public func nextChunk(size: Int) async throws(PublishStop) -> ByteBuffer? {
        let expected = declaredLength.map { min(size, max(0, $0 - delivered)) } ?? size
        var chunk = ByteBufferAllocator().buffer(capacity: max(expected, min(size, pending.readableBytes)))
        while chunk.readableBytes < size {
            if pending.readableBytes == 0 {
                guard let buffer = try await nextNetworkBuffer() else { break }
                pending = buffer
            }
            var piece = pending.readSlice(length: min(size - chunk.readableBytes, pending.readableBytes))!
            chunk.writeBuffer(&piece)
        }
        if pending.readableBytes == 0 { pending = ByteBuffer() }
        guard chunk.readableBytes > 0 else { return nil }
        delivered += chunk.readableBytes
        return chunk
    }

    /// All the bytes (for pictures: bounded by the type's limit).
    public func collect() async throws(PublishStop) -> ByteBuffer {
        var all = ByteBuffer()
        while let chunk = try await nextChunk(size: 1 << 20) { all.writeImmutableBuffer(chunk) }
        return all
    }

    /// The next buffer read from the network, or nil at the end of the body, which must then hold the
    /// declared length; the size limit of the media type is enforced as bytes arrive.
    private func nextNetworkBuffer() async throws(PublishStop) -> ByteBuffer? {
        guard !finished else { return nil }
        let next: ByteBuffer?
        let asked = ContinuousClock.now
        do {
            next = try await iterator.next()
        } catch {
            throw PublishStop(
                .retry(
                    RelayError(status: 502, info: "\(field) could not be read to the end: \(ProviderSession.describe(error))"),
                    notBefore: nil, rateLimited: false))
        }
        waited += ContinuousClock.now - asked
        receivedInWindow += next?.readableBytes ?? 0
        if waited >= stall.window {
            guard receivedInWindow >= stall.minimumBytes else {
                throw PublishStop(
                    .retry(
                        RelayError(
                            status: 502,
                            info: "\(field) is too slow: its server sent \(receivedInWindow) bytes in \(stall.window) of waiting (at least \(stall.minimumBytes) are needed)"),
                        notBefore: nil, rateLimited: false))
            }
            waited = .zero
            receivedInWindow = 0
        }
        guard let buffer = next else {
            finished = true
            if let declaredLength, received != declaredLength {
                throw PublishStop(
                    .retry(
                        RelayError(status: 502, info: "\(field) ended after \(received) of \(declaredLength) bytes"),
                        notBefore: nil, rateLimited: false))
            }
            return nil
        }
        if received + buffer.readableBytes > limit {
            throw PublishStop(.failed(.badRequest("\(field) is larger than the \(limit)-byte limit for \(type.mimeType)")))
        }
        received += buffer.readableBytes
        return buffer
    }
}
