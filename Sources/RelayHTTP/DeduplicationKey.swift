import RelayCore

/// The client-chosen keys that deduplicate requests: `Idempotency-Key` on the Push API, `webhook-id` on
/// webhooks.
///
/// Both end up in `events.idempotency_key`, whose unique index cannot hold an entry over about 2.7 kB
/// (PostgreSQL refuses the whole row with an error, which surfaced as a 500). They are limited to 255 bytes,
/// as Stripe limits its idempotency keys; UUIDs and Standard Webhooks' `msg_…` ids are far shorter.
enum DeduplicationKey {
    static let maximumLength = 255

    /// Throws a 400 naming `header` when `value` is empty or longer than `maximumLength` bytes.
    static func check(_ value: String, header: String) throws(RelayError) {
        guard !value.isEmpty else { throw .badRequest("\(header) must not be empty") }
        guard value.utf8.count <= maximumLength else {
            throw .badRequest("\(header) is \(value.utf8.count) bytes long; at most \(maximumLength) are accepted")
        }
    }
}
