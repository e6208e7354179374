import Crypto
import Foundation
import RelayCore

/// Signs and verifies webhooks with the Standard Webhooks scheme (standardwebhooks.com).
///
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the base64
/// part of a `whsec_…` secret. Inbound webhooks are verified with it; outbound callbacks are signed with it.
public struct StandardWebhooks: Sendable {
    public static let tolerance: TimeInterval = 5 * 60

    /// The raw HMAC keys of the accepted secrets (several during a rotation).
    private let keys: [Data]

    public init(secrets: [String]) {
        keys = secrets.compactMap { secret in
            let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
            return Data(base64Encoded: encoded)
        }
    }

    public var isConfigured: Bool { !keys.isEmpty }

    /// The `webhook-signature` value for a message, signed with the first secret.
    public func signature(id: String, timestamp: Int, body: some DataProtocol) -> String {
        "v1," + Self.mac(key: keys[0], id: id, timestamp: timestamp, body: body).base64EncodedString()
    }

    /// Throws a 401 saying precisely what is wrong, or returns when one signature matches one secret.
    public func verify(id: String?, timestamp: String?, signature: String?, body: some DataProtocol, now: Date) throws(RelayError) {
        guard isConfigured else {
            throw .unauthorized("Webhooks are refused: PUSHRELAY_WEBHOOK_SECRET is not configured on this server")
        }
        guard let id, !id.isEmpty, let timestamp, let signature, !signature.isEmpty else {
            throw .unauthorized("The webhook-id, webhook-timestamp and webhook-signature headers are required (Standard Webhooks)")
        }
        // Digits only: `Int` also reads "+1795600800", which the sender signed with its "+" and is then no match.
        guard !timestamp.isEmpty, timestamp.utf8.allSatisfy({ (48...57).contains($0) }), let seconds = Int(timestamp) else {
            throw .unauthorized("webhook-timestamp must be Unix seconds (digits only)")
        }
        guard abs(now.timeIntervalSince1970 - TimeInterval(seconds)) <= Self.tolerance else {
            throw .unauthorized("webhook-timestamp is more than 5 minutes away from the server's clock; the webhook is refused")
        }
        let given = signature.split(separator: " ").compactMap { entry -> Data? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { return nil }
            return Data(base64Encoded: String(parts[1]))
        }
        for key in keys {
            let expected = Self.mac(key: key, id: id, timestamp: seconds, body: body)
            if given.contains(where: { Self.constantTimeEqual($0, expected) }) { return }
        }
        throw .unauthorized("webhook-signature does not match the body (Standard Webhooks, v1)")
    }

    static func mac(key: Data, id: String, timestamp: Int, body: some DataProtocol) -> Data {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        hmac.update(data: Data("\(id).\(timestamp).".utf8))
        hmac.update(data: Data(body))
        return Data(hmac.finalize())
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
