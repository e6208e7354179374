import ArgumentParser
import Foundation
import RelayCore
import RelayStore

/// `pushrelay events …`: admin actions on publish events, the same as the Push API's event routes.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retry or cancel a publish event.", subcommands: [Retry.self, Cancel.self])

    /// `pushrelay events retry <event id>`.
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a failed or indeterminate publish again.",
            discussion: "An indeterminate publish may already be on the provider: retrying it may post it twice. Check the provider first.")

        @Argument(help: "The event id (a UUID).") var eventID: String

        func run() async throws {
            try await Events.act(on: eventID, verb: "queued again") { store, id in try await store.jobs.retry(id) }
        }
    }

    /// `pushrelay events cancel <event id>`.
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a scheduled or queued publish before it starts.")

        @Argument(help: "The event id (a UUID).") var eventID: String

        func run() async throws {
            try await Events.act(on: eventID, verb: "cancelled") { store, id in try await store.jobs.cancel(id) }
        }
    }

    static func act(on text: String, verb: String, _ action: @escaping @Sendable (Store, UUID) async throws -> JobQueue.AdminAction) async throws {
        guard let id = UUID(text: text) else { throw Serve.fail("\(text) is not an event id (a UUID)") }
        let result = try await DatabaseBootstrap.withMigratedStore { store in try await action(store, id) }
        switch result {
        case .done: print("Event \(id.lowercasedString) \(verb).")
        case .refused(let state): throw Serve.fail("event \(id.lowercasedString) is \(state.rawValue); it cannot be \(verb)")
        case .unknown: throw Serve.fail("no publish event \(id.lowercasedString)")
        }
    }
}
