/**
 * The memcached processes of testing/Memcached.ts: started on free loopback ports (TCP, ::1, unix socket, TLS,
 * ASCII auth), restarted, killed, paused, and always stopped.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type MemcachedServer, rawCommand, startMemcached, stopAll, useMemcached } from "../Memcached.ts"
import { endLine, line, sleep, usePeers, VERSION } from "./Peer.ts"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false
    throw error
  }
}

const open = usePeers()

describe("startMemcached", () => {
  it("starts on a free loopback port, answers, and is gone after stop()", async () => {
    const server = await startMemcached()
    try {
      expect(server.host).toBe("127.0.0.1")
      expect(server.port).toBeGreaterThan(0)
      expect(server.address).toBe(`127.0.0.1:${server.port}`)
      expect(server.path).toBeUndefined()
      expect(server.args).toEqual(expect.arrayContaining(["-U", "0", "-l", "127.0.0.1", "-p", String(server.port)]))
      expect(server.args).not.toContain("-d")
      expect(isAlive(server.pid)).toBe(true)
      expect((await rawCommand(server, "version\r\n")).toString()).toMatch(VERSION)
    } finally {
      await server.stop()
    }
    expect(isAlive(server.pid)).toBe(false)
    expect(server.running).toBe(false)
    await expect(rawCommand(server, "version\r\n")).rejects.toThrow(/ECONNREFUSED/)
    await server.stop() // a second stop is harmless
  })

  it("passes extra arguments to memcached", async () => {
    const server = await startMemcached({ args: ["-I", "1k", "-o", "slab_chunk_max=1024", "-m", "8"] })
    try {
      const big = await rawCommand(server, `set k 0 0 1000\r\n${"x".repeat(1000)}\r\n`)
      expect(big.toString()).toBe("SERVER_ERROR object too large for cache\r\n")
      const settings = await rawCommand(server, "stats settings\r\n", { until: endLine })
      expect(settings.toString()).toContain("STAT item_size_max 1024\r\n")
      expect(settings.toString()).toContain("STAT maxbytes 8388608\r\n")
    } finally {
      await server.stop()
    }
  })

  it("listens on ::1 when asked", async () => {
    const server = await startMemcached({ host: "::1" })
    try {
      expect(server.host).toBe("::1")
      expect(server.address).toBe(`[::1]:${server.port}`)
      expect((await rawCommand(server, "version\r\n")).toString()).toMatch(VERSION)
    } finally {
      await server.stop()
    }
  })

  it("serves a unix socket in a temp dir, removed on stop(), recreated by restart()", async () => {
    const server = await startMemcached({ unixSocket: true })
    const socketPath = server.path!
    try {
      expect(server.port).toBe(0)
      expect(server.address).toBe(`unix:${socketPath}`)
      expect(fs.statSync(socketPath).isSocket()).toBe(true)
      expect((await rawCommand(server, "set k 0 0 2\r\nhi\r\n")).toString()).toBe("STORED\r\n")
      expect((await rawCommand(server, "get k\r\n", { until: endLine })).toString()).toBe(
        "VALUE k 0 2\r\nhi\r\nEND\r\n"
      )
      await server.stop()
      expect(fs.existsSync(path.dirname(socketPath))).toBe(false)
      await server.restart()
      expect(server.path).toBe(socketPath)
      expect((await rawCommand(server, "version\r\n")).toString()).toMatch(VERSION)
    } finally {
      await server.stop()
    }
    expect(fs.existsSync(path.dirname(socketPath))).toBe(false)
  })

  it("serves TLS with a certificate signed by the returned CA", async () => {
    const server = await startMemcached({ tls: true })
    try {
      expect(server.ca).toContain("-----BEGIN CERTIFICATE-----")
      const peer = await open({ host: "127.0.0.1", port: server.port, ca: server.ca! })
      peer.send("version\r\n")
      expect(await peer.waitFor(line)).toMatch(VERSION)
      // The name check passes for "localhost" too.
      const named = await open({ host: "localhost", port: server.port, ca: server.ca!, servername: "localhost" })
      named.send("version\r\n")
      expect(await named.waitFor(line)).toMatch(VERSION)
      // Without the CA the certificate is not trusted.
      await expect(open({ host: "127.0.0.1", port: server.port, ca: [] })).rejects.toThrow()
      // Plain text gets no answer.
      const plain = await rawCommand({ host: server.host, port: server.port }, "version\r\n").then(
        (reply) => reply.toString(),
        (error: Error) => error.message
      )
      expect(plain).not.toMatch(/^VERSION/)
      // rawCommand speaks TLS to a TLS server.
      expect((await rawCommand(server, "version\r\n")).toString()).toMatch(VERSION)
    } finally {
      await server.stop()
    }
  })

  it("enforces ASCII auth (-Y): refuses before auth, serves after, and survives stop() + restart()", async () => {
    const server = await startMemcached({ auth: { username: "user", password: "password" } })
    try {
      expect(server.credentials).toEqual([{ username: "user", password: "password" }])
      const conversation = async () => {
        const peer = await open({ host: server.host, port: server.port })
        peer.send("get k\r\n")
        expect(await peer.waitFor(line)).toBe("CLIENT_ERROR unauthenticated\r\n")
        peer.clear()
        peer.send("set anything 0 0 13\r\nuser password\r\n")
        expect(await peer.waitFor(line)).toBe("STORED\r\n")
        peer.clear()
        peer.send("get k\r\n")
        expect(await peer.waitFor(line)).toBe("END\r\n")
        peer.socket.destroy()
      }
      await conversation()
      const wrong = await rawCommand(server, "set a 0 0 10\r\nuser wrong\r\n")
      expect(wrong.toString()).toBe("CLIENT_ERROR authentication failure\r\n")
      await server.stop()
      await server.restart()
      await conversation()
    } finally {
      await server.stop()
    }
  })

  it("restart() starts a fresh process on the same port", async () => {
    const server = await startMemcached()
    try {
      const { port, pid } = server
      expect((await rawCommand(server, "set k 0 0 1\r\nv\r\n")).toString()).toBe("STORED\r\n")
      await server.restart()
      expect(server.port).toBe(port)
      expect(server.pid).not.toBe(pid)
      expect(isAlive(pid)).toBe(false)
      expect((await rawCommand(server, "get k\r\n", { until: endLine })).toString()).toBe("END\r\n")
    } finally {
      await server.stop()
    }
  })

  it("kill9() kills at once, and restart() brings it back on the same port", async () => {
    const server = await startMemcached()
    try {
      const { port, pid } = server
      await server.kill9()
      expect(isAlive(pid)).toBe(false)
      expect(server.running).toBe(false)
      await expect(rawCommand(server, "version\r\n")).rejects.toThrow(/ECONNREFUSED/)
      await server.restart()
      expect(server.running).toBe(true)
      expect(server.port).toBe(port)
      expect((await rawCommand(server, "version\r\n")).toString()).toMatch(VERSION)
    } finally {
      await server.stop()
    }
  })

  it("pause() stops answering (connections stay open) until resume()", async () => {
    const server = await startMemcached()
    try {
      const peer = await open({ host: server.host, port: server.port })
      await server.pause()
      expect(fs.readFileSync(`/proc/${server.pid}/stat`, "utf8")).toMatch(/\) [tT] /)
      peer.send("version\r\n")
      await sleep(150)
      expect(peer.received().length).toBe(0)
      await server.resume()
      expect(await peer.waitFor(line)).toMatch(VERSION)
      // stop() also works on a paused server.
      await server.pause()
    } finally {
      await server.stop()
    }
    expect(isAlive(server.pid)).toBe(false)
  })

  it("rawCommand reads until the given condition", async () => {
    const server = await startMemcached()
    try {
      await rawCommand(server, "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\n", {
        until: (b) => b.toString() === "STORED\r\nSTORED\r\n"
      })
      const reply = await rawCommand(server, "get a b\r\n", { until: endLine })
      expect(reply.toString()).toBe("VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n")
      await expect(rawCommand(server, "get a\r\n", { until: () => false, timeoutMillis: 100 })).rejects.toThrow(
        /no complete reply/
      )
    } finally {
      await server.stop()
    }
  })

  it("reports memcached's own output when it fails to start", async () => {
    await expect(startMemcached({ args: ["-o", "no_such_suboption"] })).rejects.toThrow(/no_such_suboption/)
  })

  it("says how to install memcached when it is missing, and that openssl is missing for TLS", async () => {
    const savedPath = process.env.PATH
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "harness-path-"))
    try {
      process.env.PATH = bin
      await expect(startMemcached()).rejects.toThrow("apt-get update && apt-get install -y memcached")
      fs.symlinkSync("/usr/bin/memcached", path.join(bin, "memcached"))
      await expect(startMemcached({ tls: true })).rejects.toThrow(/openssl was not found/)
    } finally {
      process.env.PATH = savedPath
      fs.rmSync(bin, { recursive: true, force: true })
    }
  })
})

let fromUseMemcached: MemcachedServer | undefined

describe("useMemcached", () => {
  const memcached = useMemcached()
  it("provides a running server inside tests", async () => {
    fromUseMemcached = memcached()
    expect((await rawCommand(memcached(), "version\r\n")).toString()).toMatch(VERSION)
  })
})

describe("useMemcached cleanup and stopAll", () => {
  it("the useMemcached server was stopped by afterAll", () => {
    expect(fromUseMemcached).toBeDefined()
    expect(isAlive(fromUseMemcached!.pid)).toBe(false)
  })

  it("stopAll() stops every running server", async () => {
    const servers = await Promise.all([startMemcached(), startMemcached({ unixSocket: true })])
    const pids = servers.map((server) => server.pid)
    await stopAll()
    expect(pids.map(isAlive)).toEqual([false, false])
    expect(fs.existsSync(path.dirname(servers[1]!.path!))).toBe(false)
  })
})
