/**
 * Test harness: a real twemproxy (Debian's `nutcracker`) on a free loopback port, in front of memcached processes
 * of its own, with its YAML config written to a temp dir and its stats port moved off 22222. It runs as a child
 * process (not daemonized) and is stopped by pid, also when a test fails or the test process exits.
 *
 * @since 0.1.0
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { findExecutable, freePort, type MemcachedServer, rawCommand, startMemcached } from "./Memcached.ts"

/**
 * A running twemproxy and the memcached servers behind it.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const proxy: TwemproxyServer = await startTwemproxy()
 * console.log(proxy.address) // "127.0.0.1:40123"
 * await proxy.stop()
 * ```
 */
export interface TwemproxyServer {
  readonly host: "127.0.0.1"
  /** The port twemproxy listens on for memcache clients. */
  readonly port: number
  /** `"127.0.0.1:port"`: what the client under test connects to. */
  readonly address: string
  /** The port of twemproxy's own stats (JSON on connect), never 22222. */
  readonly statsPort: number
  /** The memcached servers of its pool, in the config's order. */
  readonly backends: ReadonlyArray<MemcachedServer>
  /** The pid of the nutcracker process. */
  readonly pid: number
  /** What nutcracker wrote to stdout and stderr (the last 64 KiB). */
  readonly output: () => string
  /** Stops nutcracker (SIGTERM, SIGKILL after 2 s) and its memcached servers, and removes the temp dir. */
  readonly stop: () => Promise<void>
}

/**
 * Options of {@link startTwemproxy}.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const options: TwemproxyOptions = { backends: 3 }
 * ```
 */
export interface TwemproxyOptions {
  /** How many memcached servers the pool has (default 2). */
  readonly backends?: number
  /** The pool's `timeout` in milliseconds, how long twemproxy waits for a server (default 1000). */
  readonly timeoutMillis?: number
  /** Extra arguments of every memcached behind it (e.g. `["-I", "1k"]`). */
  readonly memcachedArgs?: ReadonlyArray<string>
}

const INSTALL_HINT = "apt-get update && apt-get install -y nutcracker"
const OUTPUT_LIMIT = 64 * 1024
const START_TIMEOUT_MILLIS = 5000
const STOP_GRACE_MILLIS = 2000

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/** nutcracker is installed in /usr/sbin, which is not on every user's PATH. */
const nutcrackerBinary = (): string | undefined =>
  findExecutable("nutcracker") ??
  ["/usr/sbin/nutcracker", "/usr/bin/nutcracker"].find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })

/** The pool: fnv1a_64 over ketama, no host ejection (a dead server answers errors, it is not routed around). */
const configOf = (port: number, timeoutMillis: number, backends: ReadonlyArray<MemcachedServer>): string =>
  [
    "pool:",
    `  listen: 127.0.0.1:${port}`,
    "  hash: fnv1a_64",
    "  distribution: ketama",
    `  timeout: ${timeoutMillis}`,
    "  redis: false",
    "  auto_eject_hosts: false",
    "  servers:",
    ...backends.map((b) => `   - ${b.host}:${b.port}:1`),
    ""
  ].join("\n")

// Every nutcracker still running, killed when the test process exits whatever the reason.
const running = new Set<ChildProcess>()
let exitHookInstalled = false

const killAllSync = () => {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
  }
  running.clear()
}

const exitOf = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

const terminate = async (child: ChildProcess): Promise<void> => {
  const exited = exitOf(child)
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, "SIGTERM")
    } catch {
      // already gone
    }
  }
  const outcome = await Promise.race([exited.then(() => "exited" as const), sleep(STOP_GRACE_MILLIS)])
  if (outcome !== "exited" && child.pid !== undefined) {
    try {
      process.kill(child.pid, "SIGKILL")
    } catch {
      // already gone
    }
    await exited
  }
  running.delete(child)
}

/** Resolves once twemproxy answers `version` (forwarded to a server), or throws with its output. */
const awaitReady = async (child: ChildProcess, port: number, output: () => string): Promise<void> => {
  const deadline = Date.now() + START_TIMEOUT_MILLIS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nutcracker exited during startup (code ${child.exitCode})\n${output()}`)
    }
    const answered = await rawCommand({ host: "127.0.0.1", port }, "version\r\n", { timeoutMillis: 500 }).then(
      (reply) => reply.toString("latin1").startsWith("VERSION "),
      () => false
    )
    if (answered) return
    if (Date.now() > deadline)
      throw new Error(`nutcracker did not answer within ${START_TIMEOUT_MILLIS} ms\n${output()}`)
    await sleep(20)
  }
}

/**
 * Starts memcached servers and a twemproxy in front of them; resolves once a `version` goes through it. Throws
 * with the install command when nutcracker is missing.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * const proxy = await startTwemproxy({ backends: 2 })
 * try {
 *   // ... connect to proxy.address
 * } finally {
 *   await proxy.stop()
 * }
 * ```
 */
export const startTwemproxy = async (options: TwemproxyOptions = {}): Promise<TwemproxyServer> => {
  const binary = nutcrackerBinary()
  if (binary === undefined) throw new Error(`nutcracker (twemproxy) was not found; install it with: ${INSTALL_HINT}`)
  const backends: Array<MemcachedServer> = []
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twemproxy-test-"))
  let child: ChildProcess | undefined
  let output = ""
  const stop = async () => {
    if (child !== undefined) await terminate(child)
    await Promise.all(backends.map((b) => b.stop()))
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < (options.backends ?? 2); i++)
      backends.push(await startMemcached({ args: options.memcachedArgs ?? [] }))
    const port = await freePort()
    const statsPort = await freePort()
    const config = path.join(dir, "nutcracker.yml")
    fs.writeFileSync(config, configOf(port, options.timeoutMillis ?? 1000, backends))
    const started = spawn(binary, ["-c", config, "-s", String(statsPort), "-a", "127.0.0.1"], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    child = started
    running.add(started)
    if (!exitHookInstalled) {
      exitHookInstalled = true
      process.on("exit", killAllSync)
    }
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT)
    }
    started.stdout?.on("data", append)
    started.stderr?.on("data", append)
    started.unref()
    await awaitReady(started, port, () => output)
    const pid = started.pid ?? 0
    return {
      host: "127.0.0.1",
      port,
      address: `127.0.0.1:${port}`,
      statsPort,
      backends,
      pid,
      output: () => output,
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Vitest helper: starts a twemproxy (and its servers) in `beforeAll`, stops them in `afterAll` (also when tests
 * fail), and returns a getter for it.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * const proxy = useTwemproxy()
 * it("answers", async () => {
 *   const reply = await rawCommand(proxy(), "version\r\n")
 * })
 * ```
 */
export const useTwemproxy = (options: TwemproxyOptions = {}): (() => TwemproxyServer) => {
  let proxy: TwemproxyServer | undefined
  beforeAll(async () => {
    proxy = await startTwemproxy(options)
  })
  afterAll(async () => {
    const started = proxy
    proxy = undefined
    await started?.stop()
  })
  return () => {
    if (proxy === undefined) throw new Error("useTwemproxy: the proxy is only available inside tests (after beforeAll)")
    return proxy
  }
}
