import ArgumentParser
import Foundation
import RelayCore
import RelayStore

/// `pushrelay keys …`: API keys of Push API clients.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the API keys Push API clients authenticate with.", subcommands: [Create.self, List.self, Revoke.self])

    /// `pushrelay keys create`: makes a key pair and prints it once.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; prints the public key, private key and callback secret once.",
            discussion: "The private key is stored only as its SHA-256 and the callback secret only encrypted: copy them now.")

        @Option(help: "A note saying who the key is for.") var description = ""

        func run() async throws {
            let note = description
            let key = try await DatabaseBootstrap.withMigratedStore { store in try await store.apiKeys.create(description: note) }
            print("""
                public key:      \(key.publicKey)
                private key:     \(key.privateKey)
                callback secret: \(key.callbackSecret)

                Use them as HTTP Basic credentials: curl -u \(key.publicKey):\(key.privateKey) …
                The private key and the callback secret are not shown again.
                """)
        }
    }

    /// `pushrelay keys list`: every key, revoked ones included; never a private key or a callback secret.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the API keys: public key, creation, revocation, description.")

        func run() async throws {
            let keys = try await DatabaseBootstrap.withMigratedStore { store in try await store.apiKeys.list() }
            guard !keys.isEmpty else {
                print("No API keys. Create one with: pushrelay keys create --description \"…\"")
                return
            }
            let width = keys.map(\.publicKey.count).max() ?? 0
            print("PUBLIC KEY".padding(toLength: width, withPad: " ", startingAt: 0) + "  CREATED                   REVOKED                   DESCRIPTION")
            for key in keys {
                let revoked = key.revokedAt.map(RFC3339.format) ?? "-"
                print(
                    key.publicKey.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                        + RFC3339.format(key.createdAt).padding(toLength: 24, withPad: " ", startingAt: 0) + "  "
                        + revoked.padding(toLength: 24, withPad: " ", startingAt: 0) + "  " + key.description)
            }
        }
    }

    /// `pushrelay keys revoke <public key>`: the key is refused from then on.
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key: its requests are refused (401) from then on.",
            discussion: """
                A running relay keeps a key it has checked for up to a minute, so a revoked key stops working within \
                that minute. The key is kept (revoked) so that the events it made keep their author. A key given by \
                PUSHRELAY_API_KEY is enabled again when a relay starts with it: remove it from the environment too.
                """)

        @Argument(help: "The public key (the user name of the HTTP Basic credentials).") var publicKey: String

        func run() async throws {
            let key = publicKey
            let outcome = try await DatabaseBootstrap.withMigratedStore { store in try await store.apiKeys.revoke(publicKey: key) }
            switch outcome {
            case .revoked: print("Key \(key) revoked: relays refuse it within a minute.")
            case .alreadyRevoked(let date, _): print("Key \(key) was already revoked at \(RFC3339.format(date)).")
            case .unknown: throw Serve.fail("no API key \(key); see pushrelay keys list")
            }
            if case .revoked(let description) = outcome, description == "PUSHRELAY_API_KEY" {
                print("It is the key of PUSHRELAY_API_KEY: remove it from the relays' environment, or their next start enables it again.")
            }
        }
    }
}
