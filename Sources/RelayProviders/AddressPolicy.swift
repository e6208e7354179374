import Foundation
import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// Decides which hosts PushRelay may fetch media from or send callbacks to.
///
/// Loopback, private (RFC 1918, IPv6 ULA), link-local (which holds cloud metadata services),
/// carrier-grade NAT, multicast and unspecified addresses are refused unless
/// `PUSHRELAY_MEDIA_ALLOW_PRIVATE=1`: a URL given by a client must not reach inside our network.
/// Names are resolved and every address they resolve to is checked.
public struct AddressPolicy: Sendable {
    public let allowPrivate: Bool

    public init(allowPrivate: Bool) {
        self.allowPrivate = allowPrivate
    }

    /// Checks the URL's host and returns the address to connect to: nil when private addresses are allowed
    /// or the host is already a literal address (nothing to pin), else the first address the name resolved
    /// to, every one of them having been checked.
    public func approvedAddress(_ url: URL, field: String) async throws(RelayError) -> String? {
        guard let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else {
            throw .badRequest("\(field) has no host")
        }
        if allowPrivate { return nil }
        let addresses = await Self.resolve(host)
        if addresses.isEmpty {
            throw .badRequest("\(field): the host \(host) could not be resolved")
        }
        if let refused = addresses.first(where: Self.isRefused) {
            throw .badRequest(
                "\(field) points to \(refused), a private, loopback or link-local address; PushRelay does not fetch from inside its network")
        }
        if Self.ipv4(host) != nil || Self.ipv6(host) != nil { return nil }
        return addresses.first { Self.ipv4($0) != nil } ?? addresses.first
    }

    /// Throws a 400 naming the URL when its host is, or resolves to, a refused address.
    public func check(_ url: URL, field: String) async throws(RelayError) {
        _ = try await approvedAddress(url, field: field)
    }

    /// True for addresses a client-supplied URL must never reach.
    public static func isRefused(_ address: String) -> Bool {
        if let v4 = ipv4(address) { return isRefusedIPv4(v4) }
        guard let v6 = ipv6(address) else { return true }
        if v6.allSatisfy({ $0 == 0 }) { return true }  // ::
        if v6.dropLast().allSatisfy({ $0 == 0 }) && v6[15] == 1 { return true }  // ::1
        if v6[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
        if v6[0] == 0xFE && v6[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
        if v6[0] == 0xFF { return true }  // multicast
        if v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xFF && v6[11] == 0xFF {  // ::ffff:a.b.c.d
            return isRefusedIPv4(Array(v6[12..<16]))
        }
        if v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xFF && v6[3] == 0x9B { return isRefusedIPv4(Array(v6[12..<16])) }  // NAT64
        return false
    }

    static func isRefusedIPv4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return true
        case (169, 254): return true
        case (172, 16...31): return true
        case (192, 168): return true
        case (100, 64...127): return true
        case (192, 0) where b[2] == 0: return true
        case (198, 18...19): return true
        case (224...255, _): return true
        default: return false
        }
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: address) { Array($0) }
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: address) { Array($0) }
    }

    /// Every address `host` resolves to (the host itself when it is a literal address).
    static func resolve(_ host: String) async -> [String] {
        if ipv4(host) != nil || ipv6(host) != nil { return [host] }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(first) }
                var addresses: [String] = []
                var cursor: UnsafeMutablePointer<addrinfo>? = first
                while let info = cursor {
                    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                    if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                        addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                    }
                    cursor = info.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}
