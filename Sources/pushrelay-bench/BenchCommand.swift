import ArgumentParser
import Foundation
import Logging
import RelayCore

/// `pushrelay-bench`: PushRelay's speed as ratios against anchors measured in the same run, on the
/// same machine and the same PostgreSQL (absolute figures on a shared machine are noise).
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pushrelay-bench",
        abstract: "Measure PushRelay against pgbench and PgQueuer on the same PostgreSQL.",
        discussion: """
            Uses DATABASE_URL when set, else a throwaway PostgreSQL cluster. Anchor B needs PgQueuer: run \
            bench/setup.sh once (a venv under .build/). Run from the package directory.
            """)

    @Flag(help: "A smoke run of every step in well under a minute (CI): tiny sizes, figures not meaningful.")
    var quick = false
    @Option(help: "Seconds of each timed load (pgbench, ingest).") var seconds: Int?
    @Option(help: "Events of the engine run.") var events: Int?
    @Option(help: "PUSHRELAY_WORKERS of the engine's relay (default 32).") var workers = 32
    @Option(name: .customLong("video-mib"), help: "Size of the streamed video in MiB (default 1024).") var videoMiB: Int?
    @Option(help: "Where to write the JSON report.") var json = "bench-results.json"
    @Option(help: "Run only these steps (comma-separated): pgbench, ingest, pgqueuer, engine, streaming, rescue.")
    var only: String?
    @Option(name: .customLong("relay-log-level"), help: "LOG_LEVEL of the relays under measurement (default info, theirs).")
    var relayLogLevel = "info"

    func run() async throws {
        var logger = Logger(label: "pushrelay-bench")
        logger.logLevel = .warning
        let seconds = self.seconds ?? (quick ? 2 : 15)
        let events = self.events ?? (quick ? 300 : 5000)
        let videoBytes = (videoMiB ?? (quick ? 32 : 1024)) << 20
        let env = try await BenchEnvironment.start(relayLogLevel: relayLogLevel, logger: logger)
        var report = Report(
            command: CommandLine.arguments.joined(separator: " "), date: RFC3339.format(Date()), machine: Self.machine(), quick: quick)
        func step(_ name: String) { FileHandle.standardError.write(Data("• \(name)…\n".utf8)) }
        let selected = Set((only ?? "pgbench,ingest,pgqueuer,engine,streaming,rescue").split(separator: ",").map(String.init))
        func wanted(_ name: String) -> Bool { selected.contains(name) }

        do {
            var pgbench: Double?
            if wanted("pgbench") {
                step("anchor A: pgbench, 32 clients, \(seconds) s")
                let anchor = try await Anchors.pgbench(env, seconds: seconds)
                pgbench = anchor.tps
                report.figures.append(
                    Figure(
                        name: "pgbench single-row insert (anchor A)", value: anchor.tps, unit: "tx/s", anchor: "", target: "", met: nil,
                        note: "CPU per tx: PostgreSQL \(Self.micros(anchor.postgresCPUPerTransaction))"))
            }

            if wanted("ingest") {
                step("ingest, 32 connections, \(seconds) s, then paced at half its rate and at half of anchor A")
                let ingest = try await IngestBenchmark.run(env, seconds: seconds, pacedRate: pgbench.map { $0 / 2 })
                report.figures.append(
                    Figure(
                        name: "ingest accepted (202 after commit)", value: ingest.acceptedPerSecond, unit: "req/s", anchor: "anchor A",
                        anchorValue: pgbench, ratio: pgbench.map { ingest.acceptedPerSecond / $0 }, target: "≥ 1.0×",
                        met: pgbench.map { ingest.acceptedPerSecond >= $0 },
                        note: "p50 \(Self.ms(ingest.p50)), p99 \(Self.ms(ingest.p99))"
                            + (ingest.relayCPUPerRequest.map { "; CPU per req: relay \(Self.micros($0))" } ?? "")
                            + (ingest.postgresCPUPerRequest.map { ", PostgreSQL \(Self.micros($0))" } ?? "")
                            + (ingest.loadCPUPerRequest.map { ", load generator \(Self.micros($0))" } ?? "")))
                if let halfRateP50 = ingest.halfRateP50, let halfRateP99 = ingest.halfRateP99 {
                    report.figures.append(
                        Figure(
                            name: "ingest p50 ack at half the ingest rate", value: halfRateP50, unit: "ms", anchor: "paced rate",
                            anchorValue: ingest.halfRate, target: "", met: nil,
                            note: "p99 \(Self.ms(halfRateP99)); open loop at half the rate just measured"
                                + (ingest.halfRateRelayCPU.map { "; CPU per req: relay \(Self.micros($0))" } ?? "")
                                + (ingest.halfRatePostgresCPU.map { ", PostgreSQL \(Self.micros($0))" } ?? "")))
                }
                if let pacedP99 = ingest.pacedP99 {
                    report.figures.append(
                        Figure(
                            name: "ingest p99 ack at half of anchor A", value: pacedP99, unit: "ms", anchor: "paced rate",
                            anchorValue: ingest.pacedRate, target: "< 20 ms", met: pacedP99 < 20))
                }
            }

            var pgqueuer: Double?
            if wanted("pgqueuer") {
                step("anchor B: PgQueuer no-op jobs")
                pgqueuer = try await Anchors.pgqueuer(env, jobs: quick ? 2000 : 20000)
                report.figures.append(
                    Figure(
                        name: "PgQueuer no-op jobs (anchor B)", value: pgqueuer, unit: "jobs/s", anchor: "", target: "", met: nil,
                        note: pgqueuer == nil ? "not measured: run bench/setup.sh" : ""))
            }

            if wanted("engine") {
                step("anchor C: one durable insert at a time (pgbench, 1 client, 50 tx/s)")
                let commit = try await Anchors.idleCommit(env, count: quick ? 50 : 250)
                report.figures.append(
                    Figure(
                        name: "pgbench one insert on an idle server, p50 (anchor C)", value: commit.p50, unit: "ms", anchor: "", target: "",
                        met: nil, note: "p99 \(Self.ms(commit.p99))"))
                step("engine end to end, \(events) events")
                let engine = try await EngineBenchmark.run(
                    env, events: events, idleSamples: quick ? 10 : 50, workers: workers, loadSeconds: quick ? 1 : 5)
                report.figures.append(
                    Figure(
                        name: "engine end to end (claim → provider → attempt → callback)", value: engine.eventsPerSecond, unit: "events/s",
                        anchor: "anchor B", anchorValue: pgqueuer, ratio: pgqueuer.map { engine.eventsPerSecond / $0 }, target: "≥ 2×",
                        met: pgqueuer.map { engine.eventsPerSecond >= 2 * $0 },
                        note: "\(workers) workers; CPU per event: relay \(engine.cpuPerEvent.relay.map(Self.micros) ?? "?"), PostgreSQL "
                            + "\(Self.micros(engine.cpuPerEvent.postgres)), sandbox and subscriber \(Self.micros(engine.cpuPerEvent.bench))"))
                report.figures.append(
                    Figure(
                        name: "enqueue → provider call under load p50", value: engine.loadedP50, unit: "ms", anchor: "live rate",
                        anchorValue: engine.loadedRate, target: "", met: nil,
                        note: "p99 \(Self.ms(engine.loadedP99)); open loop at half the engine's rate"))
                report.figures.append(
                    Figure(
                        name: "idle enqueue → provider call p50", value: engine.idleP50, unit: "ms", anchor: "anchor C",
                        anchorValue: commit.p50, ratio: engine.idleP50 / commit.p50, target: "< 5 ms", met: engine.idleP50 < 5,
                        note: "p99 \(Self.ms(engine.idleP99)); the path holds two durable commits"))
            }

            if wanted("streaming") {
                step("streaming a \(videoBytes >> 20) MiB video")
                let streaming = try await StreamingBenchmark.run(env, bytes: videoBytes)
                report.figures.append(
                    Figure(
                        name: "\(videoBytes >> 20) MiB video relayed: peak RSS growth", value: Double(streaming.peakGrowth) / 1_048_576, unit: "MiB",
                        anchor: "", target: "< 64 MiB", met: streaming.peakGrowth < 64 << 20,
                        note: String(format: "%.1f s, %.0f MiB/s", streaming.seconds, Double(videoBytes >> 20) / streaming.seconds)))
            }

            if wanted("rescue") {
                step("rescue after kill -9 (lease \(RescueBenchmark.leaseSeconds) s)")
                let rescue = try await RescueBenchmark.run(env)
                report.figures.append(
                    Figure(
                        name: "rescue: kill -9 → job final", value: rescue, unit: "s", anchor: "lease",
                        anchorValue: Double(RescueBenchmark.leaseSeconds), target: "≤ lease + 30 s",
                        met: rescue <= Double(RescueBenchmark.leaseSeconds + 30)))
            }
        } catch {
            await env.stop()
            throw error
        }
        await env.stop()
        print(report.table())
        try report.write(to: json)
        FileHandle.standardError.write(Data("wrote \(json)\n".utf8))
    }

    static func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
    static func micros(_ value: Double) -> String { "\(Int(value.rounded())) µs" }

    /// CPU count, model and memory, from /proc.
    static func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }.map { $0.split(separator: ":").last.map(String.init) ?? "" }?
            .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?.split(separator: "\n").first?
            .split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) }.map { "\($0 >> 20) GiB" } ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) CPUs (\(cpu)), \(memory) RAM"
    }
}
