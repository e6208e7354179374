import Foundation
import PostgresNIO
import RelayCore

/// An inbound request about to be recorded in `events`.
public struct NewEvent: Sendable {
    public var kind: String
    public let source: String
    public let idempotencyKey: String?
    public let requestHash: Data?
    public var identityToken: UUID?
    public var provider: String?
    public var path: String?
    public let apiKeyID: Int64?
    public let body: JSONValue
}

/// What recording an event did.
public enum RecordedEvent: Sendable {
    case created(UUID)
    /// The idempotency key was seen before; `sameRequest` is false when the first request differed.
    case existing(UUID, sameRequest: Bool)

    public var eventID: UUID {
        switch self {
        case .created(let id), .existing(let id, _): id
        }
    }
}

/// The provider and state of a connected or `needs_reconnect` identity.
public struct IdentityStanding: Sendable, Equatable {
    public let provider: Provider
    public let state: String

    public init(provider: Provider, state: String) {
        self.provider = provider
        self.state = state
    }
}

/// A publish request refused by its batch because its identity cannot publish on that route: unknown or
/// disconnected (`standing` nil), connected to another provider, or waiting for a reconnect. The intake
/// turns it into the OneAll error; nothing of the request was written.
public struct IdentityNotStanding: Error, Sendable {
    public let standing: IdentityStanding?
}

/// A publish request to make durable: its event and its job, written together.
public struct NewPublish: Sendable {
    /// Chosen by the caller so it can wait for the outcome before the job can finish.
    public let eventID: UUID
    public let request: PublishRequest
    public let identityToken: UUID
    public var source: String
    public var idempotencyKey: String?
    public var requestHash: Data?
    public var apiKeyID: Int64?
    public var body: JSONValue
    /// Stored as `events.received_at`, so the acknowledgement can show it without reading it back.
    public let receivedAt: Date

    /// `scheduled` when the request asks for a time after its arrival, else `queued`: decided once, so
    /// the stored job and the acknowledgement agree.
    public var initialState: PublishState {
        request.scheduledAt.map { $0 > receivedAt } == true ? .scheduled : .queued
    }
    /// This request's fields in the batch of `enqueue_publishes` (the members of its JSON object, all but
    /// its place in the batch). Rendered when the request is made, in the request's own task: the group
    /// commit writes one batch at a time, and rendering sixteen requests in its flush took 0.6 ms of each
    /// cycle while every request of the next batch waited.
    let batchFields: String

    /// `serializedBody`, when given, is `body.serialized()`: the intake has written it for the request's
    /// hash already, and writing it again was a third of the cost of making a `NewPublish`.
    public init(
        eventID: UUID = .random(), request: PublishRequest, identityToken: UUID, source: String, idempotencyKey: String?, requestHash: Data?,
        apiKeyID: Int64?, body: JSONValue, serializedBody: String? = nil, receivedAt: Date = Date()
    ) {
        self.receivedAt = receivedAt
        self.eventID = eventID
        self.request = request
        self.identityToken = identityToken
        self.source = source
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.apiKeyID = apiKeyID
        self.body = body
        let fields: JSONValue = [
            "id": .string(eventID.lowercasedString), "source": .string(source),
            "idempotency_key": idempotencyKey.map(JSONValue.string) ?? .null,
            "request_sha256": requestHash.map { .string(EventRepository.hex($0)) } ?? .null,
            "identity_token": .string(identityToken.lowercasedString), "provider": .string(request.operation.provider.rawValue),
            "path": .string(request.route.path), "api_key_id": apiKeyID.map { .integer($0) } ?? .null,
            "received_at": .string(RFC3339.format(receivedAt)),
            "operation": .string(request.operation.rawValue), "content": .string(request.content.encodedJSON()),
            "callback_url": request.callbackURL.map(JSONValue.string) ?? .null,
            "state": .string((request.scheduledAt.map { $0 > receivedAt } == true ? PublishState.scheduled : .queued).rawValue),
            "run_at": .string(RFC3339.format(request.scheduledAt ?? receivedAt)),
        ]
        // The object's braces cut off as bytes: `dropFirst()` and `dropLast()` on a String walk grapheme
        // boundaries, and with the `+` of a Substring they cost as much as writing the body.
        var entry = String(decoding: fields.serializedBytes().dropFirst().dropLast(), as: UTF8.self)
        entry += #","body":"#
        entry += serializedBody ?? body.serialized()
        batchFields = entry
    }
}

/// Everything `GET /push/events/<id>.json` shows about one event.
public struct EventStatus: Sendable {
    public let eventID: UUID
    public let kind: String
    public let path: String?
    public let provider: String?
    public let identityToken: UUID?
    public let receivedAt: Date
    public let state: PublishState?
    public let finishedAt: Date?
    public let result: JSONValue?
    public let errorCode: Int?
    public let errorInfo: String?
    public let attempts: [JSONValue]
    /// The callbacks owed for this event, with their delivery tries.
    public let callbacks: [JSONValue]

    /// A publish request just committed, as the acknowledgement shows it: known without reading it
    /// back, so a database that goes away after the commit cannot turn an accepted request into an error.
    public static func accepted(_ publish: NewPublish, state: PublishState) -> EventStatus {
        EventStatus(
            eventID: publish.eventID, kind: "publish.requested", path: publish.request.route.path,
            provider: publish.request.operation.provider.rawValue, identityToken: publish.identityToken, receivedAt: publish.receivedAt,
            state: state, finishedAt: nil, result: nil, errorCode: nil, errorInfo: nil, attempts: [], callbacks: [])
    }
}

/// A publish worker of this process with free slots, to which the batch insert may lease the jobs it writes.
public struct LocalLease: Sendable {
    /// The worker's lease owner (`publish_jobs.lease_owner`).
    public let owner: String
    public let seconds: Double
    /// At most this many jobs (the worker's free slots, reserved for them).
    public let limit: Int

    public init(owner: String, seconds: Double, limit: Int) {
        self.owner = owner
        self.seconds = seconds
        self.limit = limit
    }
}

/// What `enqueue_publishes` says became of one publish request of a batch: `[id, identity provider,
/// identity state, created]`, plus the identity's sealed tokens and accounts when its job was leased to
/// this process's worker. Parsed apart so the shape of the answer is checked in one place.
struct EnqueueOutcome: Equatable {
    let eventID: UUID
    let identityProvider: String?
    let identityState: String?
    let created: Bool
    /// Only for a job the statement leased to the local worker.
    let leasedIdentity: JSONValue?

    init(_ item: JSONValue) throws {
        guard case .array(let fields) = item, fields.count == 4 || fields.count == 5,
            let id = fields[0].stringValue.flatMap(UUID.init(text:)), case .bool(let created) = fields[3]
        else { throw DatabaseError("enqueue_publishes answered \(item.serialized())") }
        eventID = id
        identityProvider = fields[1].stringValue
        identityState = fields[2].stringValue
        self.created = created
        // Spelled out: `JSONValue` is `ExpressibleByNilLiteral`, so a bare `nil` here would become `.null`
        // wrapped in an Optional, and every job not leased would look leased.
        leasedIdentity = fields.count == 5 ? fields[4] : JSONValue?.none
    }
}

/// The `events` table and the publish requests it feeds into the queue.
public struct EventRepository: Sendable {
    let store: Store

    /// Records several publish requests, and queues their jobs, in one statement and so one commit:
    /// the group commit of `PublishBatcher` (procedure `enqueue_publishes`). The same statement checks
    /// each request's identity (so the intake reads nothing before it), and a request whose identity
    /// cannot publish there is not written: it comes back as `IdentityNotStanding`. Returns what became of each, in order; a request whose
    /// idempotency key was taken is looked up on its own, so only that lookup can fail for it alone.
    public func enqueue(_ publishes: [NewPublish]) async throws -> [Result<RecordedEvent, any Error>] {
        try await enqueue(publishes, leasingTo: nil).results
    }

    /// `enqueue(_:)`, leasing up to `lease.limit` of the jobs that are due now to a publish worker of this
    /// process in the same statement (migration 0010): they come back ready to run, and no claim is needed.
    /// A leased job whose identity's tokens do not open comes back to fail alone (`unopenedTokens`); one
    /// whose answer is malformed is logged and left to its lease running out, when the rescuer queues it again.
    public func enqueue(_ publishes: [NewPublish], leasingTo lease: LocalLease?) async throws
        -> (results: [Result<RecordedEvent, any Error>], leased: [ClaimedJob])
    {
        var serialized = "["
        for (ordinal, publish) in publishes.enumerated() {
            if ordinal > 0 { serialized += "," }
            serialized += #"{"ordinal":\#(ordinal),\#(publish.batchFields)}"#
        }
        serialized += "]"
        // The procedure of migrations 0006 and 0010: the statement and its commit in one round trip.
        let rows = try await store.call(
            """
            CALL enqueue_publishes(\(serialized)::jsonb, \(Store.notificationChannel), NULL,
                                   \(lease?.owner)::text, \(lease?.seconds ?? 0)::float8, \(lease?.limit ?? 0)::integer)
            """, logger: store.logger)
        var outcomes: [UUID: EnqueueOutcome] = [:]
        for text in try rows.decode(String.self) {
            guard case .array(let list) = try JSONValue.parse(Array(text.utf8)) else {
                throw DatabaseError("enqueue_publishes answered \(text)")
            }
            for item in list {
                let outcome = try EnqueueOutcome(item)
                outcomes[outcome.eventID] = outcome
            }
        }
        var results: [Result<RecordedEvent, any Error>] = []
        var leased: [ClaimedJob] = []
        for publish in publishes {
            guard let outcome = outcomes[publish.eventID] else {
                results.append(.failure(DatabaseError("the batch insert returned nothing for event \(publish.eventID)")))
                continue
            }
            if outcome.created {
                results.append(.success(.created(publish.eventID)))
                if let identity = outcome.leasedIdentity {
                    do {
                        leased.append(try store.jobs.leasedJob(publish, identity: identity))
                    } catch {
                        store.logger.error(
                            "could not prepare a job leased by its insert; it runs once its lease has run out",
                            metadata: ["event_id": "\(publish.eventID.lowercasedString)", "error": "\(String(reflecting: error))"])
                    }
                }
                continue
            }
            let standing = outcome.identityProvider.flatMap(Provider.init(rawValue:)).map {
                IdentityStanding(provider: $0, state: outcome.identityState ?? "")
            }
            if standing?.provider != publish.request.operation.provider || standing?.state != "connected" {
                results.append(.failure(IdentityNotStanding(standing: standing)))
                continue
            }
            do {
                results.append(.success(try await existing(idempotencyKey: publish.idempotencyKey, requestHash: publish.requestHash)))
            } catch {
                results.append(.failure(error))
            }
        }
        return (results, leased)
    }

    /// Lower-case hexadecimal, for `decode(…, 'hex')` (String(format:) per byte was a visible cost).
    static func hex(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count * 2)
        for byte in data {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func existing(idempotencyKey: String?, requestHash: Data?) async throws -> RecordedEvent {
        guard let idempotencyKey else { throw DatabaseError("an event insert without idempotency key created nothing") }
        let rows = try await store.query(
            "SELECT id, request_sha256 FROM events WHERE idempotency_key = \(idempotencyKey)", logger: store.logger)
        for try await (id, hash) in rows.decode((UUID, Data?).self) {
            return .existing(id, sameRequest: requestHash == nil || hash == nil || hash == requestHash)
        }
        throw DatabaseError("idempotency key \(idempotencyKey) conflicted but no event holds it")
    }

    /// Inserts an event inside a caller's transaction (identity webhooks).
    static func insertEvent(_ event: NewEvent, on connection: PostgresConnection, logger: Logger) async throws -> RecordedEvent {
        let rows = try await connection.query(
            """
            INSERT INTO events (kind, source, idempotency_key, request_sha256, identity_token, provider, path, api_key_id, body)
            VALUES (\(event.kind), \(event.source), \(event.idempotencyKey), \(event.requestHash), \(event.identityToken),
                    \(event.provider), \(event.path), \(event.apiKeyID), \(event.body.serialized())::jsonb)
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return .created(id) }
        guard let key = event.idempotencyKey else { throw DatabaseError("event insert created nothing") }
        let existing = try await connection.query("SELECT id FROM events WHERE idempotency_key = \(key)", logger: logger)
        for try await id in existing.decode(UUID.self) { return .existing(id, sameRequest: true) }
        throw DatabaseError("idempotency key \(key) conflicted but no event holds it")
    }

    /// The event, its job and the job's provider attempts; nil when unknown.
    public func status(_ eventID: UUID) async throws -> EventStatus? {
        let rows = try await store.query(
            """
            SELECT e.id, e.kind, e.path, e.provider, e.identity_token, e.received_at, j.state, j.finished_at,
                   j.result::text, j.error_code, j.error_info
            FROM events e LEFT JOIN publish_jobs j ON j.event_id = e.id WHERE e.id = \(eventID)
            """, logger: store.logger)
        for try await row in rows {
            let r = row.makeRandomAccess()
            let attempts = try await self.attempts(eventID)
            let callbacks = try await store.callbacks.forEvent(eventID)
            return EventStatus(
                eventID: try r["id"].decode(UUID.self),
                kind: try r["kind"].decode(String.self),
                path: try r["path"].decode(String?.self),
                provider: try r["provider"].decode(String?.self),
                identityToken: try r["identity_token"].decode(UUID?.self),
                receivedAt: try r["received_at"].decode(Date.self),
                state: try r["state"].decode(String?.self).flatMap(PublishState.init(rawValue:)),
                finishedAt: try r["finished_at"].decode(Date?.self),
                result: try r["result"].decode(String?.self).flatMap(JSONValue.parse(text:)),
                errorCode: try r["error_code"].decode(Int?.self),
                errorInfo: try r["error_info"].decode(String?.self),
                attempts: attempts,
                callbacks: callbacks)
        }
        return nil
    }

    func attempts(_ eventID: UUID) async throws -> [JSONValue] {
        let rows = try await store.query(
            """
            SELECT try_number, step, method, url, http_status, outcome, duration_ms, started_at, error, response_excerpt
            FROM provider_attempts WHERE event_id = \(eventID) ORDER BY id
            """, logger: store.logger)
        var attempts: [JSONValue] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let status = try r["http_status"].decode(Int?.self)
            attempts.append([
                "try": .integer(Int64(try r["try_number"].decode(Int.self))),
                "step": .string(try r["step"].decode(String.self)),
                "method": .string(try r["method"].decode(String.self)),
                "url": .string(try r["url"].decode(String.self)),
                "status": status.map { .integer(Int64($0)) } ?? .null,
                "outcome": .string(try r["outcome"].decode(String.self)),
                "duration_ms": .double(try r["duration_ms"].decode(Double.self)),
                "started_at": .string(RFC3339.format(try r["started_at"].decode(Date.self))),
                "error": try r["error"].decode(String?.self).map(JSONValue.string) ?? .null,
                "response": try r["response_excerpt"].decode(String?.self).map(JSONValue.string) ?? .null,
            ])
        }
        return attempts
    }
}
