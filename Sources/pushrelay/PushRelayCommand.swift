import ArgumentParser

/// The `pushrelay` command: the service and its admin tasks.
@main
struct PushRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pushrelay",
        abstract: "A webhook-driven relay that publishes to Facebook, LinkedIn, Pinterest, X and YouTube.",
        discussion: """
            PushRelay accepts OneAll-compatible Push API calls and signed webhooks, makes every request \
            durable in PostgreSQL before answering, and relays it to the provider's API.

            Start here:   pushrelay serve --sandbox
            (no configuration needed: a private PostgreSQL under .pushrelay/, the built-in provider \
            sandbox, and a development API key printed at start)
            """,
        subcommands: [Serve.self, Migrate.self, Keys.self, Events.self])
}
