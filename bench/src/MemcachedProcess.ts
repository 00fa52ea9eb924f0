/**
 * The benchmark's own memcached: a child process on a free loopback port, stopped by its pid.
 *
 * @since 0.1.0
 */

import { type ChildProcess, spawn } from "node:child_process"
import * as Net from "node:net"
import { setTimeout as sleep } from "node:timers/promises"
import { promised, RawClient } from "./RawClient.ts"

/**
 * The server flags. `-t 1`: one worker thread, so the server is the same bottleneck for every client;
 * `-U 0`: no UDP; `-m 1024`: room for every workload's keys; `-I 2m`: the 512 KB values fit; `hashpower=18`:
 * a hash table big enough for every key of a run (about 150,000), so that no client pays for the table growing
 * under it.
 *
 * @example
 * ```ts
 * import { serverFlags } from "./MemcachedProcess.ts"
 * serverFlags.join(" ")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const serverFlags: ReadonlyArray<string> = ["-t", "1", "-U", "0", "-m", "1024", "-I", "2m", "-o", "hashpower=18"]

/**
 * A running memcached.
 *
 * @example
 * ```ts
 * import type { MemcachedProcess } from "./MemcachedProcess.ts"
 * const describe = (m: MemcachedProcess) => `memcached ${m.version} on ${m.port}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MemcachedProcess {
  readonly port: number
  readonly pid: number
  /** What `version` answered, e.g. `1.6.18`. */
  readonly version: string
  /** The command line it was started with. */
  readonly commandLine: string
  readonly stop: () => Promise<void>
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

/**
 * Starts memcached (in the foreground, as a child; `-u nobody` when run as root) and waits until it answers
 * `version`.
 *
 * @example
 * ```ts
 * import { startMemcached } from "./MemcachedProcess.ts"
 * const server = await startMemcached()
 * await server.stop()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const startMemcached = async (binary = "memcached"): Promise<MemcachedProcess> => {
  const port = await freePort()
  const args = ["-l", "127.0.0.1", "-p", String(port), ...serverFlags]
  if (process.getuid?.() === 0) args.push("-u", "nobody")
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, "SIGTERM")
    }
    await exited(child)
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`memcached exited (${child.exitCode}): ${stderr.trim()}`)
    try {
      const client = promised(await RawClient.connect(port))
      const line = await client.line("version")
      client.close()
      return {
        port,
        pid: child.pid!,
        version: line.replace(/^VERSION /, ""),
        commandLine: `${binary} ${args.join(" ")}`,
        stop
      }
    } catch {
      await sleep(50)
    }
  }
  await stop()
  throw new Error(`memcached did not answer on 127.0.0.1:${port}: ${stderr.trim()}`)
}
