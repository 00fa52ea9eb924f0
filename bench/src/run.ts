/**
 * `pnpm bench`: starts a memcached, runs every (client, workload) in a fresh worker process, round after round
 * with the clients alternating (each round starting one client later), then prints the report and writes it to
 * bench/results.md.
 *
 * Environment: `BENCH_ROUNDS` (default 5), `BENCH_FILTER` (comma-separated workload ids and/or client names;
 * e.g. `W2,W3,effect-memcache,reference`).
 *
 * @since 0.1.0
 */

import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { type MemcachedProcess, startMemcached } from "./MemcachedProcess.ts"
import { type Results, render } from "./Report.ts"
import { takeSnapshot } from "./Snapshot.ts"
import { type ClientId, clients, runsOn, workloads } from "./Workload.ts"
import type { RunResult } from "./worker.ts"

/** A worker that has not exited by then is killed and its run counted as an error. */
const WORKER_KILL_MILLIS = 90_000

const repoRoot = fileURLToPath(new URL("../../", import.meta.url))
const resultsPath = fileURLToPath(new URL("../results.md", import.meta.url))

const runWorker = (
  workerPath: string,
  client: ClientId,
  workload: string,
  ports: ReadonlyArray<number>
): Promise<RunResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [workerPath, client, workload, ports.join(",")], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), WORKER_KILL_MILLIS)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      const last = stdout.trim().split("\n").pop() ?? ""
      try {
        resolve(JSON.parse(last) as RunResult)
      } catch {
        resolve({
          client,
          workload,
          ops: 0,
          capped: false,
          elapsedMs: 0,
          opsPerSec: 0,
          cpuPerOpUs: 0,
          maxRssMB: 0,
          checks: 0,
          failures: 0,
          error: `worker exited (${signal ?? code}) without a result: ${stderr.trim().split("\n").slice(-3).join(" / ")}`
        })
      }
    })
  })

const selection = () => {
  const tokens = (process.env.BENCH_FILTER ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
  const unknown = tokens.filter((t) => !workloads.some((w) => w.id === t) && !clients.some((c) => c === t))
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_FILTER: unknown ${unknown.join(", ")} (workloads: ${workloads.map((w) => w.id).join(", ")}; ` +
        `clients: ${clients.join(", ")})`
    )
  }
  const pickedWorkloads = workloads.filter((w) => tokens.includes(w.id))
  const pickedClients = clients.filter((c) => tokens.includes(c))
  return {
    workloads: pickedWorkloads.length > 0 ? pickedWorkloads : workloads,
    clients: pickedClients.length > 0 ? pickedClients : clients
  }
}

/** The clients in the order of round `shift + 1`: each round starts one client later, so none always runs first. */
const rotated = <A>(items: ReadonlyArray<A>, shift: number): ReadonlyArray<A> => {
  const k = shift % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

const main = async () => {
  const rounds = Number(process.env.BENCH_ROUNDS ?? "5")
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a positive integer`)
  const selected = selection()
  const loadAverage = Os.loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")
  const started = Date.now()
  // Every worker of the run executes this one copy of the build, whatever is rebuilt in the tree meanwhile.
  const snapshot = takeSnapshot(repoRoot)
  const log = (line: string) => process.stderr.write(`${line}\n`)
  // The first server serves every single-server workload; the others join it for cluster workloads only.
  const serverCount = Math.max(1, ...selected.workloads.map((w) => w.servers))
  const servers: Array<MemcachedProcess> = []
  try {
    for (let i = 0; i < serverCount; i++) servers.push(await startMemcached())
  } catch (error) {
    for (const started of servers) await started.stop()
    snapshot.dispose()
    throw error
  }
  const server = servers[0]!
  for (const s of servers) log(`memcached ${s.version} on 127.0.0.1:${s.port} (pid ${s.pid})`)
  log(`${rounds} round(s) of the build of ${snapshot.source}, copied to ${snapshot.workerPath}`)

  const results: Results = new Map()
  /** Cells that errored: not run again (an error usually means a hang up to the watchdog). */
  const failed = new Set<string>()
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const workload of selected.workloads) {
        // The workload's own clients rotate, so that of two (W7) each runs first in every other round.
        const order = rotated(
          selected.clients.filter((c) => runsOn(workload, c)),
          round - 1
        )
        for (const client of order) {
          const cell = `${workload.id}/${client}`
          if (failed.has(cell)) continue
          const ports = servers.slice(0, workload.servers).map((s) => s.port)
          const result = await runWorker(snapshot.workerPath, client, workload.id, ports)
          const byClient = results.get(workload.id) ?? new Map<ClientId, Array<RunResult>>()
          results.set(workload.id, byClient)
          byClient.set(client, [...(byClient.get(client) ?? []), result])
          if (result.error !== undefined) failed.add(cell)
          const verdict =
            result.error !== undefined ? `ERROR ${result.error}` : result.invalid !== undefined ? "INVALID" : "ok"
          log(
            `round ${round} ${workload.id.padEnd(3)} ${client.padEnd(15)} ${result.opsPerSec.toFixed(0).padStart(8)} ` +
              `ops/s ${result.cpuPerOpUs.toFixed(2).padStart(8)} us/op ${result.maxRssMB.toFixed(0).padStart(4)} MB ${verdict}`
          )
        }
      }
    }
  } finally {
    for (const s of servers) await s.stop()
    snapshot.dispose()
  }

  const notes = [
    "effect-memcache: `MemcacheClient.layer({ server, itemSizeMax: 2 MB })` with its defaults (one connection, " +
      "spans on, batching on, 2 s timeout), values as raw bytes through `withSerializer(Serializer.bytes)`, each whole run one " +
      'Effect program: `Effect.forEach(items, op, { concurrency: N })` (`"unbounded"` inside a W7 burst). W3 and W6 ' +
      "set with `noreply: false`; W3q with the default (noreply).",
    "memjs 1.3.2 (binary protocol): defaults except `retries: 0`; it has no multi-get, so its W4 is 100 " +
      "concurrent gets per call.",
    "memcache-client 1.0.5: defaults (one connection). memcached 2.2.2: `poolSize: 1` (one connection like the " +
      "others), `maxValue: 2 MB`.",
    "reference: bench/src/RawClient.ts, a minimal pipelined text-protocol client on node:net (one write per tick, " +
      "the single-key gets of a tick sent as one multi-key `get` line and each answered as its value arrives, " +
      "reads into a buffer of its own (node:net's `onread`, read into again while no value views it, as this " +
      "project's connection reads), incremental parsing, a FIFO of callbacks, no validation or timeouts).",
    "reference-effect: the reference driven by the same Effect program as this project, each call one " +
      "`Effect.callback` around the reference's callback: what any client costs when driven from Effect, with " +
      "nothing of its own. The distance from reference-effect to the reference is Effect's loop; the distance " +
      "from this project to reference-effect is what this project adds. It runs on one server only (not W7, W7u, W8).",
    "effect-memcache-nospans / -tracer / -metrics (W1, W3, W4 only): this project with `spans: false`, with an " +
      "in-memory tracer installed (every call makes a span, the latest 1,000 are kept), and with `metrics: true`: " +
      "what tracing and metrics cost. " +
      "The default run (effect-memcache) has spans on and no tracer installed, so it makes no span.",
    'effect-memcache-meta (W1 to W6, and W3q): this project with `protocol: "meta"`, every command in its ' +
      "meta form (sets as `ms`, gets as runs of quiet `mg` closed by `mn`, an opaque checked on every reply): " +
      "its ratio to effect-memcache is what the meta protocol costs.",
    "reference-meta (W4 only): the reference sending each multi-get as this project's meta protocol does (one " +
      "quiet `mg <key> v f O<i> q` per key, then `mn`): what memcached itself serves of a get run, against one " +
      "multi-key `get`.",
    "Values: every value holds `\\r\\nEND\\r\\n` and the invalid UTF-8 bytes 0xff 0xfe; every 8th reply is compared " +
      "byte for byte, and after each run the whole keyspace is read back through a separate reference connection " +
      "to check the bytes the server holds. INVALID = a wrong value in some run; its speed is not counted.",
    "Every run warms up before it is timed: a tenth of its operations, except W4's 6,000 calls and W6's 4,500 " +
      "pairs, where V8 was still compiling every client's code in the timed phase after a tenth. A warm-up, like " +
      "a timed phase, starts no operation after 5 s.",
    "W3q runs only this project, the reference and reference-effect; W7 and W7u only this project and the reference. W7u is W7 with this project's batching turned off " +
      "(`batching: false`): W7 / W7u is what batching is worth.",
    "W2, W5 and W7 (many single gets at once): this project coalesces the concurrent gets of a tick into " +
      "multi-key gets (its automatic batching), and so does the reference, so it is a fair limit there too (a " +
      "reference sending one `get` per call paid a socket write per get: about 20 µs of CPU per 100 KB get).",
    "CPU per op: `process.cpuUsage()` of the worker over the timed phase (user + system, every thread), divided " +
      "by the operations done; for W6 one op is a set+get pair. The table shows the median over the rounds.",
    "RSS: every worker loads the whole `effect` package (the same ballast for all), so about 100 MB is the floor " +
      "(see the reference).",
    "W8: three memcached processes like the first; this project through `MemcacheCluster.layer({ servers })` " +
      "(its default rendezvous hashing), memjs and memcached with their own key hashing, the reference with " +
      "FNV-1a modulo 3 (one multi-get per server, in parallel). memcache-client is left out: its several " +
      "servers are failover, not a distribution."
  ]
  const cpus = Os.cpus()
  const markdown = render(selected.workloads, selected.clients, results, {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model ?? "unknown CPU",
    cores: cpus.length,
    node: process.version,
    memcached: server.version,
    memcachedCommand: server.commandLine,
    source: snapshot.source,
    rounds,
    loadAverage,
    durationSeconds: (Date.now() - started) / 1000,
    notes
  })
  process.stdout.write(markdown)
  Fs.writeFileSync(resultsPath, markdown)
  log(`written to ${resultsPath}`)
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
