/**
 * The built `memcache` command (packages/cli/dist/bin.js), run as a child process against a real memcached: what
 * it prints on stdout and stderr, and how it exits.
 */
import { execFile, execFileSync } from "node:child_process"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { freePort, useMemcached } from "../../../testing/Memcached.ts"

const root = path.resolve(import.meta.dirname, "..", "..", "..")
const bin = path.join(root, "packages", "cli", "dist", "bin.js")

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `node dist/bin.js ...args` with `env` added to a copy of the environment without MEMCACHE_* variables. */
const memcache = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Outcome> => {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MEMCACHE_")))
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...base, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

// The tests run the built command: build it (incrementally) first, so that they never run a stale dist/.
beforeAll(() => {
  execFileSync(path.join(root, "node_modules", ".bin", "tsc"), ["-b", path.join(root, "packages", "cli")], {
    cwd: root,
    stdio: "inherit"
  })
}, 120_000)

describe("memcache command", () => {
  const memcached = useMemcached()
  const on = (...args: ReadonlyArray<string>) => memcache([...args, "--server", memcached().address])

  it("set, get, incr and delete round trip a value through the server", async () => {
    expect(await on("set", "cli:greeting", "hello world")).toEqual({ code: 0, stdout: "stored\n", stderr: "" })
    expect((await on("get", "cli:greeting")).stdout).toBe("hello world\n")
    expect((await on("set", "cli:counter", "41")).code).toBe(0)
    expect((await on("incr", "cli:counter")).stdout).toBe("42\n")
    expect((await on("incr", "cli:counter", "8")).stdout).toBe("50\n")
    expect((await on("get", "cli:counter")).stdout).toBe("50\n")
    expect(await on("delete", "cli:greeting")).toEqual({ code: 0, stdout: "deleted\n", stderr: "" })
    expect(await on("get", "cli:greeting")).toEqual({
      code: 1,
      stdout: "",
      stderr: "memcache: cli:greeting: not found\n"
    })
  })

  it("a miss of get, delete and incr prints one line on stderr and exits 1", async () => {
    for (const args of [
      ["get", "cli:absent"],
      ["delete", "cli:absent"],
      ["incr", "cli:absent", "1"]
    ]) {
      expect(await on(...args)).toEqual({ code: 1, stdout: "", stderr: "memcache: cli:absent: not found\n" })
    }
  })

  it("set --ttl gives the item an expiry: a negative ttl expires it at once, a long one keeps it", async () => {
    expect((await on("set", "cli:gone", "x", "--ttl", "-1")).code).toBe(0)
    expect((await on("get", "cli:gone")).code).toBe(1)
    expect((await on("set", "cli:kept", "y", "--ttl", "3600")).code).toBe(0)
    expect((await on("get", "cli:kept")).stdout).toBe("y\n")
  })

  it("incr of a value that is not a number fails with the server's error, and a bad delta before sending", async () => {
    await on("set", "cli:word", "abc")
    const notNumeric = await on("incr", "cli:word")
    expect(notNumeric.code).not.toBe(0)
    expect(notNumeric.stderr).toMatch(/^memcache: .*non-numeric value\n$/)
    const badDelta = await on("incr", "cli:word", "-5")
    expect(badDelta).toEqual({
      code: 1,
      stdout: "",
      stderr: "memcache: delta must be an integer from 0 to 2^64-1, not -5\n"
    })
  })

  it("stats prints the server's stats as a table with the values in one column", async () => {
    const { code, stdout } = await on("stats")
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^STAT +VALUE$/)
    const column = lines[0]!.indexOf("VALUE")
    const rows = new Map(lines.slice(1).map((line) => [line.slice(0, column).trimEnd(), line.slice(column)]))
    expect(rows.get("pid")).toBe(String(memcached().pid))
    expect(rows.get("version")).toMatch(/^1\.\d+\.\d+/)
    for (const name of ["uptime", "curr_connections", "get_hits", "evictions"]) expect(rows.get(name)).toMatch(/^\d+$/)
    for (const line of lines.slice(1)) expect(line[column - 1]).toBe(" ")
  })

  it("flush invalidates every item", async () => {
    await on("set", "cli:one", "1")
    await on("set", "cli:two", "2")
    expect(await on("flush")).toEqual({ code: 0, stdout: "flushed\n", stderr: "" })
    expect((await on("get", "cli:one")).code).toBe(1)
    expect((await on("get", "cli:two")).code).toBe(1)
  })

  it("top --iterations 2 prints two plain lines of figures, then exits", async () => {
    const { code, stdout } = await on("top", "--iterations", "2")
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split("\n")
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      expect(line).toMatch(
        /^hit_ratio=(-|\d+\.\d%) ops\/s=\d+\.\d get\/s=\d+\.\d set\/s=\d+\.\d connections=\d+ evictions=\d+ evictions\/s=\d+\.\d$/
      )
    }
  })

  it("MEMCACHE_SERVERS chooses the server when --server is not given", async () => {
    const env = { MEMCACHE_SERVERS: memcached().address }
    expect((await memcache(["set", "cli:env", "from env"], env)).code).toBe(0)
    expect((await on("get", "cli:env")).stdout).toBe("from env\n")
  })
})

describe("memcache command without a server", () => {
  it("a server that refuses connections: one line on stderr, and a non-zero exit", async () => {
    const port = await freePort()
    const { code, stdout, stderr } = await memcache(["get", "cli:any", "--server", `127.0.0.1:${port}`])
    expect(code).not.toBe(0)
    expect(stdout).toBe("")
    expect(stderr).toMatch(new RegExp(`^memcache: 127\\.0\\.0\\.1:${port}: connection refused.*\\n$`))
  })

  it("an address that is not one: one line on stderr that says what to write, and a non-zero exit", async () => {
    const { code, stderr } = await memcache(["stats", "--server", "not a server"])
    expect(code).not.toBe(0)
    expect(stderr.split("\n")).toHaveLength(2)
    expect(stderr).toMatch(/^memcache: .*invalid server.*host:port/)
  })
})
