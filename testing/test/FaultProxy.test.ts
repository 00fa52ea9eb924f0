/**
 * The fault proxy of testing/FaultProxy.ts, in each mode, between a raw client socket and a real memcached.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type FaultProxy, startFaultProxy } from "../FaultProxy.ts"
import { rawCommand, useMemcached } from "../Memcached.ts"
import { endLine, line, sleep, usePeers, VERSION } from "./Peer.ts"

const open = usePeers()

describe("FaultProxy", () => {
  const memcached = useMemcached()
  const proxies: Array<FaultProxy> = []
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()))
  })
  const proxy = async () => {
    const started = await startFaultProxy({ target: { host: memcached().host, port: memcached().port } })
    proxies.push(started)
    return started
  }
  const client = (target: FaultProxy) => open({ host: target.host, port: target.port })

  it("Pass forwards both ways and counts what clients send", async () => {
    const p = await proxy()
    expect(p.address).toBe(`127.0.0.1:${p.port}`)
    expect(p.mode).toEqual({ _tag: "Pass" })
    const peer = await client(p)
    expect(p.bytesFromClient).toBe(0)
    peer.send("version\r\n")
    expect(await peer.waitFor(line)).toMatch(VERSION)
    expect(p.bytesFromClient).toBe(9)
    expect(p.clientData().toString()).toBe("version\r\n")
    expect(p.connections).toBe(1)
    expect(p.acceptedConnections).toBe(1)
    peer.socket.destroy()
    await peer.closed
    p.resetCounters()
    expect([p.bytesFromClient, p.clientData().length, p.acceptedConnections]).toEqual([0, 0, 0])
  })

  it("a client's half-close still gets its pending replies", async () => {
    const p = await proxy()
    const peer = await client(p)
    peer.socket.end("version\r\n")
    expect(await peer.waitFor(line)).toMatch(VERSION)
    expect(await peer.closed).toBeUndefined()
  })

  it("SplitEveryByte delivers a reply one byte at a time, whole when read to \\r\\n", async () => {
    const p = await proxy()
    const peer = await client(p)
    p.setMode({ _tag: "SplitEveryByte" })
    peer.send("version\r\n")
    const reply = await peer.waitFor(line)
    expect(reply).toMatch(VERSION)
    expect(peer.chunks.length).toBeGreaterThan(1)
    expect(Math.max(...peer.chunks.map((chunk) => chunk.length))).toBeLessThan(reply.length)
  })

  it("Delay holds replies back, and a mode change releases them at once", async () => {
    const p = await proxy()
    const peer = await client(p)
    p.setMode({ _tag: "Delay", millis: 200 })
    const sent = performance.now()
    peer.send("version\r\n")
    expect(await peer.waitFor(line)).toMatch(VERSION)
    expect(performance.now() - sent).toBeGreaterThanOrEqual(190)
    peer.clear()
    p.setMode({ _tag: "Delay", millis: 60_000 })
    peer.send("version\r\n")
    await sleep(100)
    expect(peer.received().length).toBe(0)
    p.setMode({ _tag: "Pass" })
    expect(await peer.waitFor(line)).toMatch(VERSION)
  })

  it("CutAfter forwards N more bytes, then closes both sides", async () => {
    const p = await proxy()
    const peer = await client(p)
    p.setMode({ _tag: "CutAfter", bytes: 3 })
    peer.send("version\r\n")
    expect(await peer.closed).toBeUndefined()
    expect(peer.received().toString()).toBe("VER")
    // New connections get their own N bytes; with 0 they close at once.
    p.setMode({ _tag: "CutAfter", bytes: 0 })
    const next = await client(p)
    await next.closed
    expect(next.received().length).toBe(0)
    await sleep(20)
    expect(p.connections).toBe(0)
  })

  it("Reset resets open connections now, and new connections when they send", async () => {
    const p = await proxy()
    const peer = await client(p)
    peer.send("version\r\n")
    await peer.waitFor(line)
    p.setMode({ _tag: "Reset" })
    expect((await peer.closed)?.code).toBe("ECONNRESET")
    const next = await client(p)
    const before = p.bytesFromClient
    next.send("version\r\n")
    expect((await next.closed)?.code).toBe("ECONNRESET")
    expect(next.received().length).toBe(0)
    expect(p.bytesFromClient).toBe(before + 9)
  })

  it("Garble replaces replies on an already open connection", async () => {
    const p = await proxy()
    const peer = await client(p)
    peer.send("version\r\n")
    expect(await peer.waitFor(line)).toMatch(VERSION)
    peer.clear()
    p.setMode({ _tag: "Garble" })
    peer.send("version\r\n")
    expect(await peer.waitFor(line)).toBe("XYZZY\r\n")
  })

  it("Blackhole lets requests reach the server but swallows the replies", async () => {
    const p = await proxy()
    const peer = await client(p)
    p.setMode({ _tag: "Blackhole" })
    const key = `bh${Date.now()}`
    peer.send(`set ${key} 0 0 2\r\nhi\r\n`)
    // The set travels on another connection, so poll until the server has it.
    let stored = ""
    for (let attempt = 0; attempt < 100 && stored !== `VALUE ${key} 0 2\r\nhi\r\nEND\r\n`; attempt++) {
      if (attempt > 0) await sleep(10)
      stored = (await rawCommand(memcached(), `get ${key}\r\n`, { until: endLine })).toString()
    }
    expect(stored).toBe(`VALUE ${key} 0 2\r\nhi\r\nEND\r\n`)
    await sleep(100)
    expect(peer.received().length).toBe(0)
    p.setMode({ _tag: "Pass" })
    peer.send("version\r\n")
    expect(await peer.waitFor(line)).toMatch(VERSION)
  })

  it("bytesFromClient stays 0 while a connected client sends nothing", async () => {
    const p = await proxy()
    const peer = await client(p)
    await sleep(20)
    expect(p.connections).toBe(1)
    expect(p.bytesFromClient).toBe(0)
    expect(p.clientData().length).toBe(0)
    peer.socket.destroy()
  })
})
