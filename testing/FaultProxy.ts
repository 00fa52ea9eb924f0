/**
 * Test harness: a fault-injecting TCP proxy to put between a client and a memcached server.
 *
 * @since 0.1.0
 */
import * as net from "node:net"

/**
 * What the proxy does to traffic. Server→client faults apply to replies; requests always reach the server, except
 * in `Reset` mode. A mode change applies to open connections at once.
 *
 * - `Pass`: forward both ways unchanged.
 * - `SplitEveryByte`: deliver replies one byte per write, with a `setImmediate` between writes.
 * - `Delay`: deliver each reply chunk `millis` after it arrived from the server (order kept).
 * - `CutAfter`: forward `bytes` more reply bytes on each connection, then close both sides (`0` closes at once).
 * - `Reset`: reset (RST) client connections now, and any connection that sends data.
 * - `Garble`: replace each reply chunk with `XYZZY\r\n`.
 * - `Blackhole`: requests reach the server, replies are dropped.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * proxy.setMode({ _tag: "CutAfter", bytes: 3 })
 * ```
 */
export type FaultMode =
  | { readonly _tag: "Pass" }
  | { readonly _tag: "SplitEveryByte" }
  | { readonly _tag: "Delay"; readonly millis: number }
  | { readonly _tag: "CutAfter"; readonly bytes: number }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Garble" }
  | { readonly _tag: "Blackhole" }

/**
 * Options of {@link startFaultProxy}.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const options: FaultProxyOptions = { target: { host: "127.0.0.1", port: 11211 } }
 * ```
 */
export interface FaultProxyOptions {
  /** Where to forward to (a `MemcachedServer` fits). */
  readonly target: { readonly host: string; readonly port: number }
  /** Loopback address to listen on (default `"127.0.0.1"`). */
  readonly host?: "127.0.0.1" | "::1"
  /** The initial mode (default `Pass`). */
  readonly mode?: FaultMode
}

/**
 * A running fault proxy.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const proxy: FaultProxy = await startFaultProxy({ target: server })
 * proxy.setMode({ _tag: "Blackhole" })
 * await proxy.close()
 * ```
 */
export interface FaultProxy {
  readonly host: string
  readonly port: number
  /** `"127.0.0.1:port"` or `"[::1]:port"`. */
  readonly address: string
  /** Client connections open right now. */
  readonly connections: number
  /** Client connections accepted since start (or the last `resetCounters()`). */
  readonly acceptedConnections: number
  /** Bytes that reached the proxy from clients since start (or the last `resetCounters()`), in every mode. */
  readonly bytesFromClient: number
  /** Everything clients sent since start (or the last `resetCounters()`), concatenated in arrival order. */
  readonly clientData: () => Buffer
  /** Zeroes `acceptedConnections`, `bytesFromClient` and `clientData()`. */
  readonly resetCounters: () => void
  readonly mode: FaultMode
  readonly setMode: (mode: FaultMode) => void
  /** Stops listening and destroys every connection. */
  readonly close: () => Promise<void>
}

const GARBAGE = Buffer.from("XYZZY\r\n", "latin1")

interface Pending {
  data: Buffer
  readonly arrivedAt: number
}

interface Link {
  readonly client: net.Socket
  readonly upstream: net.Socket
  readonly queue: Array<Pending>
  pumping: boolean
  upstreamEnded: boolean
  closed: boolean
  // Reply bytes still allowed through in CutAfter mode.
  cutRemaining: number
  // Ends a Delay wait early, so a mode change applies at once.
  wake: (() => void) | undefined
}

const sleep = (link: Link, millis: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      link.wake = undefined
      resolve()
    }, millis)
    link.wake = () => {
      clearTimeout(timer)
      link.wake = undefined
      resolve()
    }
  })
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Starts a fault-injecting TCP proxy on a free loopback port in front of `target`.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ target: { host: server.host, port: server.port } })
 * proxy.setMode({ _tag: "SplitEveryByte" })
 * // connect the client to proxy.host:proxy.port
 * ```
 */
export const startFaultProxy = async (options: FaultProxyOptions): Promise<FaultProxy> => {
  const host = options.host ?? "127.0.0.1"
  const links = new Set<Link>()
  let mode: FaultMode = options.mode ?? { _tag: "Pass" }
  let accepted = 0
  let bytesFromClient = 0
  let clientChunks: Array<Buffer> = []

  const destroyLink = (link: Link, how: "close" | "reset") => {
    if (link.closed) return
    link.closed = true
    link.queue.length = 0
    link.wake?.()
    link.upstream.destroy()
    if (how === "reset") {
      if (!link.client.destroyed) link.client.resetAndDestroy()
    } else {
      // end() flushes what was already written before the FIN; destroy() then frees the socket.
      link.client.end(() => link.client.destroy())
    }
  }

  const write = (link: Link, data: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (link.closed || link.client.destroyed) return resolve()
      if (link.client.write(data)) resolve()
      else link.client.once("drain", resolve).once("close", resolve)
    })

  // Delivers queued reply chunks in order, reading the mode afresh for every step.
  const pump = async (link: Link) => {
    if (link.pumping) return
    link.pumping = true
    try {
      while (!link.closed && link.queue.length > 0) {
        const next = link.queue[0]!
        switch (mode._tag) {
          case "Pass": {
            link.queue.shift()
            await write(link, next.data)
            break
          }
          case "Garble": {
            link.queue.shift()
            await write(link, GARBAGE)
            break
          }
          case "Blackhole": {
            link.queue.shift()
            break
          }
          case "Reset": {
            destroyLink(link, "reset")
            break
          }
          case "Delay": {
            const wait = next.arrivedAt + mode.millis - Date.now()
            // Re-check the mode after waiting: it may have changed meanwhile.
            if (wait > 0) await sleep(link, wait)
            else {
              link.queue.shift()
              await write(link, next.data)
            }
            break
          }
          case "SplitEveryByte": {
            await write(link, next.data.subarray(0, 1))
            next.data = next.data.subarray(1)
            if (next.data.length === 0) link.queue.shift()
            await nextTurn()
            break
          }
          case "CutAfter": {
            const allowed = Math.min(link.cutRemaining, next.data.length)
            if (allowed > 0) await write(link, next.data.subarray(0, allowed))
            link.cutRemaining -= allowed
            next.data = next.data.subarray(allowed)
            if (next.data.length === 0) link.queue.shift()
            if (link.cutRemaining <= 0) destroyLink(link, "close")
            break
          }
        }
      }
      if (!link.closed && link.upstreamEnded && link.queue.length === 0) destroyLink(link, "close")
    } finally {
      link.pumping = false
    }
  }

  const applyMode = (link: Link) => {
    link.wake?.()
    if (mode._tag === "Reset") destroyLink(link, "reset")
    else if (mode._tag === "CutAfter" && link.cutRemaining <= 0) destroyLink(link, "close")
    else if (link.queue.length > 0) void pump(link)
  }

  // Half-open on the client side: a client that shuts down its writing side still gets every pending reply.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    accepted++
    const upstream = net.connect({ host: options.target.host, port: options.target.port })
    const link: Link = {
      client,
      upstream,
      queue: [],
      pumping: false,
      upstreamEnded: false,
      closed: false,
      cutRemaining: mode._tag === "CutAfter" ? mode.bytes : 0,
      wake: undefined
    }
    links.add(link)
    client.setNoDelay(true)
    upstream.setNoDelay(true)

    client.on("data", (chunk: Buffer) => {
      bytesFromClient += chunk.length
      clientChunks.push(chunk)
      if (mode._tag === "Reset") return destroyLink(link, "reset")
      if (link.closed) return
      // Back-pressure: stop reading the client while the server side is congested.
      if (!upstream.write(chunk)) {
        client.pause()
        upstream.once("drain", () => client.resume())
      }
    })
    upstream.on("data", (chunk: Buffer) => {
      if (link.closed) return
      link.queue.push({ data: chunk, arrivedAt: Date.now() })
      void pump(link)
    })
    upstream.on("end", () => {
      link.upstreamEnded = true
      void pump(link)
    })
    upstream.on("error", () => destroyLink(link, "close"))
    upstream.on("close", () => {
      link.upstreamEnded = true
      void pump(link)
    })
    client.on("end", () => upstream.end())
    client.on("error", () => destroyLink(link, "close"))
    client.on("close", () => {
      link.closed = true
      link.queue.length = 0
      link.wake?.()
      upstream.destroy()
      links.delete(link)
    })
    if (mode._tag === "CutAfter" && link.cutRemaining <= 0) destroyLink(link, "close")
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen({ port: 0, host }, () => {
      server.off("error", reject)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0

  return {
    host,
    port,
    address: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
    get connections() {
      return links.size
    },
    get acceptedConnections() {
      return accepted
    },
    get bytesFromClient() {
      return bytesFromClient
    },
    clientData: () => Buffer.concat(clientChunks),
    resetCounters: () => {
      accepted = 0
      bytesFromClient = 0
      clientChunks = []
    },
    get mode() {
      return mode
    },
    setMode: (next) => {
      mode = next
      for (const link of links) {
        if (next._tag === "CutAfter") link.cutRemaining = next.bytes
        applyMode(link)
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of links) {
          link.client.destroy()
          link.upstream.destroy()
        }
        server.close(() => resolve())
      })
  }
}
