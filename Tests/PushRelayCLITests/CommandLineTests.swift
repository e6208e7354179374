import Foundation
import NIOCore
import NIOPosix
import PostgresNIO
import RelayStore
import Testing
import TestSupport

/// The `pushrelay` executable as a user runs it: its exit status, what it prints, what it stores.
@Suite struct CommandLineTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The built `pushrelay`, next to this test bundle in the build directory.
    static var executable: URL {
        var directory = Bundle.main.bundleURL
        while directory.path != "/" && !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("pushrelay").path) {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("pushrelay")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PUSHRELAY_") && $0.key != "DATABASE_URL" }
        env.merge(environment) { $1 }
        process.environment = env
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        process.currentDirectoryURL = directory
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let (exit, exited) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = {
            exited.yield($0.terminationStatus)
            exited.finish()
        }
        try process.run()
        // Read while the command runs (one filling a pipe's buffer waits for its reader), off the concurrency pool.
        async let stdout = Self.readToEnd(out)
        async let stderr = Self.readToEnd(err)
        var status: Int32 = -1
        for await value in exit { status = value }
        return Run(status: status, stdout: await stdout, stderr: await stderr)
    }

    /// What `pipe` carries up to its end, read on a dispatch thread: the read blocks.
    static func readToEnd(_ pipe: Pipe) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            }
        }
    }

    @Test func helpNamesTheCommands() async throws {
        let help = try await run(["--help"])
        #expect(help.status == 0)
        for word in ["serve", "migrate", "keys", "pushrelay serve --sandbox"] {
            #expect(help.stdout.contains(word), "\(word) missing from --help")
        }
        let serveHelp = try await run(["serve", "--help"])
        #expect(serveHelp.stdout.contains("PUSHRELAY_PORT"))
        #expect(serveHelp.stdout.contains("--sandbox"))
    }

    @Test(arguments: [
        ("PUSHRELAY_PORT", "eighty"), ("PUSHRELAY_SYNC_TIMEOUT", "soon"), ("PUSHRELAY_WEBHOOK_SECRET", "hunter2"),
    ])
    func badConfigurationStopsServeWithOneLine(variable: String, value: String) async throws {
        let result = try await run(["serve"], environment: [variable: value])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("pushrelay: invalid \(variable)=") == true)
        #expect(!result.stderr.contains("hunter2"))
    }

    @Test func externalDatabaseNeedsAnEncryptionKey() async throws {
        let result = try await run(["migrate"], environment: ["DATABASE_URL": "postgres://u:p@127.0.0.1:1/db"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("PUSHRELAY_ENCRYPTION_KEY"))
    }

    /// A database that cannot be reached stops the command with the network's reason, not PostgresNIO's
    /// `connectionError` alone, and never shows the password.
    @Test func anUnreachableDatabaseSaysWhy() async throws {
        let result = try await run(
            ["migrate"], environment: ["DATABASE_URL": "postgres://u:hunter2@127.0.0.1:1/db", "PUSHRELAY_ENCRYPTION_KEY": CredentialCipher.generateKey()])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("pushrelay: cannot connect to postgres://u@127.0.0.1:1/db: ") == true, "\(result.stderr)")
        #expect(result.stderr.contains("Connection refused"), "\(result.stderr)")
        #expect(!result.stderr.contains("hunter2"))
    }

    /// A port another process holds stops `serve` with the address and the variable to change.
    @Test func aPortInUseIsNamed() async throws {
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        defer { holder.close(promise: nil) }
        let port = try #require(holder.localAddress?.port)
        let settings = try await TestDatabase.create(logger: TestEnvironment.makeLogger())
        let result = try await run(
            ["serve"],
            environment: [
                "DATABASE_URL": settings.url, "PUSHRELAY_ENCRYPTION_KEY": CredentialCipher.generateKey(), "PUSHRELAY_PORT": String(port),
                "LOG_LEVEL": "error",
            ])
        #expect(result.status == 2)
        let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last == "pushrelay: cannot listen on 127.0.0.1:\(port) (PUSHRELAY_PORT): the address is in use by another process", "\(result.stderr)")
    }

    /// The log as an operator's tools read it: one line a record, in text by default and in JSON with `LOG_FORMAT=json`.
    @Test func migrateLogsEachMigrationAsOneLine() async throws {
        let key = CredentialCipher.generateKey()
        let textDatabase = try await TestDatabase.create(logger: TestEnvironment.makeLogger())
        let text = try await run(
            ["migrate"], environment: ["DATABASE_URL": textDatabase.url, "PUSHRELAY_ENCRYPTION_KEY": key, "LOG_LEVEL": "info"])
        #expect(text.status == 0, "\(text.stderr)")
        let textLines = text.stderr.split(separator: "\n").filter { $0.contains("applied migration") }
        #expect(!textLines.isEmpty, "\(text.stderr)")
        let layout = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info pushrelay: name=\S+ version=\d+ \[RelayStore\] applied migration/
        for line in textLines {
            #expect(line.wholeMatch(of: layout) != nil, "\(line)")
        }
        #expect(textLines.first?.contains(" version=1 ") == true, "\(text.stderr)")

        let jsonDatabase = try await TestDatabase.create(logger: TestEnvironment.makeLogger())
        let json = try await run(
            ["migrate"], environment: ["DATABASE_URL": jsonDatabase.url, "PUSHRELAY_ENCRYPTION_KEY": key, "LOG_FORMAT": "json", "LOG_LEVEL": "info"])
        #expect(json.status == 0, "\(json.stderr)")
        let records = try json.stderr.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
        }
        let applied = records.filter { $0["message"] == "applied migration" }
        #expect(applied.count == textLines.count, "\(json.stderr)")
        #expect(applied.first?["version"] == "1")
        for record in applied {
            #expect(record["level"] == "info")
            #expect(record["logger"] == "pushrelay")
            #expect(record["time"]?.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(record)")
        }

        let quietDatabase = try await TestDatabase.create(logger: TestEnvironment.makeLogger())
        let quiet = try await run(
            ["migrate"], environment: ["DATABASE_URL": quietDatabase.url, "PUSHRELAY_ENCRYPTION_KEY": key, "LOG_LEVEL": "warning"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stdout.contains("Applied migrations"), "\(quiet.stdout)")
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    @Test func migrateThenKeysCreateStoresOnlyTheHash() async throws {
        let settings = try await TestDatabase.create(logger: TestEnvironment.makeLogger())
        let environment = ["DATABASE_URL": settings.url, "PUSHRELAY_ENCRYPTION_KEY": CredentialCipher.generateKey()]
        let migrate = try await run(["migrate"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.contains("Applied migrations: 1"))
        #expect(try await run(["migrate"], environment: environment).stdout.contains("up to date"))

        let created = try await run(["keys", "create", "--description", "cli test"], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        func value(_ label: String) -> String? {
            created.stdout.split(separator: "\n").first { $0.hasPrefix(label) }
                .map { $0.dropFirst(label.count).trimmingCharacters(in: .whitespaces) }
        }
        let publicKey = try #require(value("public key:"))
        let privateKey = try #require(value("private key:"))
        let secret = try #require(value("callback secret:"))
        #expect(secret.hasPrefix("whsec_"))

        let connection = try await PostgresConnection.connect(
            configuration: settings.connectionConfiguration(), id: 1, logger: TestEnvironment.makeLogger())
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(
            """
            SELECT description, private_key_sha256 = sha256(convert_to(\(privateKey), 'UTF8')),
                   position(convert_to(\(privateKey), 'UTF8') in private_key_sha256) = 0,
                   position(convert_to(\(secret), 'UTF8') in callback_secret) = 0
            FROM api_keys WHERE public_key = \(publicKey)
            """, logger: TestEnvironment.makeLogger())
        var found = false
        for try await (description, hashMatches, keyAbsent, secretAbsent) in rows.decode((String, Bool, Bool, Bool).self) {
            found = true
            #expect(description == "cli test")
            #expect(hashMatches)
            #expect(keyAbsent)
            #expect(secretAbsent)
        }
        #expect(found)
    }

    @Test func keysAreListedAndRevoked() async throws {
        let settings = try await TestDatabase.create(logger: TestEnvironment.makeLogger())
        let environment = ["DATABASE_URL": settings.url, "PUSHRELAY_ENCRYPTION_KEY": CredentialCipher.generateKey()]
        #expect(try await run(["keys", "list"], environment: environment).stdout.contains("No API keys"))
        let created = try await run(["keys", "create", "--description", "mobile app"], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        let lines = created.stdout.split(separator: "\n")
        let publicKey = try #require(lines.first { $0.hasPrefix("public key:") }?.split(separator: " ").last.map(String.init))
        let privateKey = try #require(lines.first { $0.hasPrefix("private key:") }?.split(separator: " ").last.map(String.init))

        let listed = try await run(["keys", "list"], environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        let row = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix(publicKey) })
        #expect(row.hasSuffix("mobile app") && row.contains("  -  "), "\(row)")
        #expect(!listed.stdout.contains(privateKey), "the private key is never shown again")

        let revoked = try await run(["keys", "revoke", publicKey], environment: environment)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.contains("Key \(publicKey) revoked"))
        #expect(!revoked.stdout.contains("PUSHRELAY_API_KEY"), "a key made by keys create is not the environment's")
        let again = try await run(["keys", "revoke", publicKey], environment: environment)
        #expect(again.status == 0 && again.stdout.contains("already revoked at "), "\(again.stdout)")
        let unknown = try await run(["keys", "revoke", "no-such-key"], environment: environment)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no API key no-such-key"), "\(unknown.stderr)")
        let relisted = try await run(["keys", "list"], environment: environment)
        let revokedRow = try #require(relisted.stdout.split(separator: "\n").first { $0.hasPrefix(publicKey) })
        #expect(!revokedRow.contains("  -  "), "\(revokedRow)")

        let connection = try await PostgresConnection.connect(
            configuration: settings.connectionConfiguration(), id: 1, logger: TestEnvironment.makeLogger())
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(
            "SELECT revoked_at IS NOT NULL FROM api_keys WHERE public_key = \(publicKey)", logger: TestEnvironment.makeLogger())
        var revokedInTable = false
        for try await value in rows.decode(Bool.self) { revokedInTable = value }
        #expect(revokedInTable)

        // The key a relay keeps from PUSHRELAY_API_KEY comes back at its next start: the command says so.
        try await connection.query(
            """
            INSERT INTO api_keys (public_key, private_key_sha256, callback_secret, callback_secret_key_id, description)
            VALUES ('env-key', '\\x00', '\\x00', 'none', 'PUSHRELAY_API_KEY')
            """, logger: TestEnvironment.makeLogger())
        let environmentKey = try await run(["keys", "revoke", "env-key"], environment: environment)
        #expect(environmentKey.status == 0, "\(environmentKey.stderr)")
        #expect(environmentKey.stdout.contains("It is the key of PUSHRELAY_API_KEY"), "\(environmentKey.stdout)")
    }
}

