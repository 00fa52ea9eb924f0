/**
 * The reference: a minimal pipelined text-protocol client on raw node:net, written for the benchmark. Commands
 * of one tick go out in one corked write; replies are parsed incrementally from the socket's Buffers (values
 * are zero-copy slices when they arrive whole) and handed to a FIFO of callbacks. No validation, no timeouts,
 * no reconnection: the limit of one process on one connection.
 *
 * @since 0.1.0
 */

import * as Net from "node:net"

/**
 * How a reply completes its request: an error line, or the request's result.
 *
 * @example
 * ```ts
 * import type { Callback } from "./RawClient.ts"
 * const log: Callback<boolean> = (error, stored) => console.log(error ?? stored)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Callback<A> = (error: Error | undefined, result: A) => void

const Kind = { One: 0, Many: 1, Status: 2, Line: 3 } as const
type Kind = (typeof Kind)[keyof typeof Kind]

/** One request waiting for its reply. */
interface Pending {
  readonly kind: Kind
  readonly callback: Callback<never>
  /** The first value (One) or every value (Many) seen before END. */
  one: Buffer | undefined
  many: Map<string, Buffer> | undefined
}

const word = (s: string) => Buffer.from(s, "latin1")
const END = word("END")
const STORED = word("STORED")
const NOT_STORED = word("NOT_STORED")
const EXISTS = word("EXISTS")
const NOT_FOUND = word("NOT_FOUND")
const DELETED = word("DELETED")
const is = (buf: Buffer, start: number, end: number, w: Buffer): boolean => {
  if (end - start !== w.length) return false
  for (let i = 0; i < w.length; i++) if (buf[start + i] !== w[i]) return false
  return true
}
const CR = 13
/** Values at least this long are written without copying them into the scratch buffer. */
const BIG = 16 * 1024
const LF = 10

/**
 * One connection to one memcached server.
 *
 * @example
 * ```ts
 * import { RawClient } from "./RawClient.ts"
 * const client = await RawClient.connect(11211)
 * client.get("k", (error, value) => console.log(error, value))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class RawClient {
  private readonly socket: Net.Socket
  private fifo: Array<Pending | undefined> = []
  private head = 0
  /** The commands of this tick, copied into one scratch buffer (big values are written on their own). */
  private out = Buffer.allocUnsafe(64 * 1024)
  private outLength = 0
  /** Parts of this tick ahead of `out`, when a big value had to go out without a copy. */
  private parts: Array<Uint8Array> = []
  private flushScheduled = false
  private readonly writtenCallbacks: Array<() => void> = []
  /** Bytes of an incomplete line carried over to the next chunk. */
  private carry: Buffer | undefined = undefined
  /** A value body spanning chunks: its buffer and how much of it has arrived. */
  private body: Buffer | undefined = undefined
  private bodyFilled = 0
  private bodyKey = ""
  /** The CRLF after a value still to skip (it can straddle chunks). */
  private skip = 0
  private failure: Error | undefined = undefined

  private constructor(socket: Net.Socket) {
    this.socket = socket
    socket.on("data", (chunk: Buffer) => this.onData(chunk))
    socket.on("error", (error) => this.fail(error))
    socket.on("close", () => this.fail(new Error("connection closed")))
  }

  /**
   * Connects to `host:port`.
   *
   * @since 0.1.0
   */
  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = Net.connect({ port, host, noDelay: true })
      socket.once("error", reject)
      socket.once("connect", () => {
        socket.off("error", reject)
        resolve(new RawClient(socket))
      })
    })
  }

  /**
   * `get <key>`: the value's bytes, or `undefined` for a miss.
   *
   * @since 0.1.0
   */
  get(key: string, callback: Callback<Buffer | undefined>): void {
    this.push({ kind: Kind.One, callback, one: undefined, many: undefined })
    this.text(`get ${key}\r\n`)
  }

  /**
   * `get <key>*`: the hits by key.
   *
   * @since 0.1.0
   */
  getMany(keys: ReadonlyArray<string>, callback: Callback<Map<string, Buffer>>): void {
    this.push({ kind: Kind.Many, callback, one: undefined, many: new Map() })
    this.text(`get ${keys.join(" ")}\r\n`)
  }

  /**
   * `set <key> 0 0 <bytes> [noreply]`: `true` when stored. With `noreply` the callback runs once the command is
   * handed to the socket.
   *
   * @since 0.1.0
   */
  set(key: string, value: Uint8Array, noreply: boolean, callback: Callback<boolean>): void {
    if (noreply) {
      this.text(`set ${key} 0 0 ${value.length} noreply\r\n`)
      this.writtenCallbacks.push(() => callback(undefined, true))
    } else {
      this.push({ kind: Kind.Status, callback, one: undefined, many: undefined })
      this.text(`set ${key} 0 0 ${value.length}\r\n`)
    }
    this.bytes(value)
    this.text("\r\n")
  }

  /**
   * A command answered by one line (`version`, `flush_all`): the line.
   *
   * @since 0.1.0
   */
  line(command: string, callback: Callback<string>): void {
    this.push({ kind: Kind.Line, callback, one: undefined, many: undefined })
    this.text(`${command}\r\n`)
  }

  /**
   * Closes the connection.
   *
   * @since 0.1.0
   */
  close(): void {
    this.socket.end()
  }

  private push(pending: Pending): void {
    this.fifo.push(pending)
  }

  /** Appends a command line (ASCII: one byte per character). */
  private text(line: string): void {
    this.reserve(line.length)
    this.outLength += this.out.write(line, this.outLength, "latin1")
    this.schedule()
  }

  /** Appends a value: copied when small, else written as it is after what is already queued. */
  private bytes(value: Uint8Array): void {
    if (value.length >= BIG) {
      if (this.outLength > 0) this.parts.push(this.take())
      this.parts.push(value)
      return
    }
    this.reserve(value.length)
    this.out.set(value, this.outLength)
    this.outLength += value.length
  }

  private reserve(n: number): void {
    if (this.outLength + n <= this.out.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.outLength + n))
    this.out.copy(grown, 0, 0, this.outLength)
    this.out = grown
  }

  /** What is in the scratch buffer, as its own copy (the socket keeps it until written). */
  private take(): Buffer {
    const taken = Buffer.from(this.out.subarray(0, this.outLength))
    this.outLength = 0
    return taken
  }

  private schedule(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    // nextTick queued from promise continuations runs after the whole microtask queue has drained, so every
    // request of this tick is in the one write.
    process.nextTick(() => this.flush())
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.failure !== undefined) return
    if (this.parts.length === 0) {
      this.socket.write(this.take())
    } else {
      if (this.outLength > 0) this.parts.push(this.take())
      const parts = this.parts
      this.parts = []
      this.socket.cork()
      for (const part of parts) this.socket.write(part)
      this.socket.uncork()
    }
    if (this.writtenCallbacks.length > 0) {
      const done = this.writtenCallbacks.splice(0)
      for (const callback of done) callback()
    }
  }

  private shift(): Pending | undefined {
    const pending = this.fifo[this.head]
    this.fifo[this.head++] = undefined
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head)
      this.head = 0
    }
    return pending
  }

  private peek(): Pending | undefined {
    return this.fifo[this.head]
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return
    this.failure = error
    while (this.head < this.fifo.length) this.shift()?.callback(error, undefined as never)
  }

  private onData(chunk: Buffer): void {
    let buf = chunk
    let pos = 0
    if (this.body !== undefined) {
      const n = Math.min(this.body.length - this.bodyFilled, buf.length)
      buf.copy(this.body, this.bodyFilled, 0, n)
      this.bodyFilled += n
      pos = n
      if (this.bodyFilled < this.body.length) return
      this.value(this.bodyKey, this.body)
      this.body = undefined
      this.skip = 2
    }
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length - pos)
      this.skip -= n
      pos += n
      if (this.skip > 0) return
    }
    if (this.carry !== undefined) {
      buf = Buffer.concat([this.carry, buf.subarray(pos)])
      pos = 0
      this.carry = undefined
    }
    while (pos < buf.length) {
      const lf = buf.indexOf(LF, pos)
      if (lf === -1) {
        this.carry = buf.subarray(pos)
        return
      }
      const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf
      const start = pos
      pos = lf + 1
      // VALUE <key> <flags> <bytes> [<cas>]
      if (buf[start] === 0x56 && buf[start + 1] === 0x41) {
        const keyStart = start + 6
        const keyEnd = buf.indexOf(0x20, keyStart)
        const flagsEnd = buf.indexOf(0x20, keyEnd + 1)
        let bytes = 0
        for (let i = flagsEnd + 1; i < end; i++) {
          const c = buf[i]!
          if (c === 0x20) break
          bytes = bytes * 10 + (c - 48)
        }
        const key = buf.toString("latin1", keyStart, keyEnd)
        if (pos + bytes + 2 <= buf.length) {
          this.value(key, buf.subarray(pos, pos + bytes))
          pos += bytes + 2
          continue
        }
        const body = Buffer.allocUnsafe(bytes)
        const n = Math.min(bytes, buf.length - pos)
        buf.copy(body, 0, pos, pos + n)
        pos += n
        if (n === bytes) {
          this.value(key, body)
          this.skip = 2 - (buf.length - pos)
          return
        }
        this.body = body
        this.bodyFilled = n
        this.bodyKey = key
        return
      }
      this.onLine(buf, start, end)
    }
  }

  private value(key: string, value: Buffer): void {
    const pending = this.peek()
    if (pending === undefined) return
    if (pending.kind === Kind.Many) pending.many!.set(key, value)
    else if (pending.one === undefined) pending.one = value
  }

  private onLine(buf: Buffer, start: number, end: number): void {
    const pending = this.shift()
    if (pending === undefined) return
    const callback = pending.callback as Callback<unknown>
    const result = outcome(pending, buf, start, end)
    if (result === FAILED) callback(new Error(buf.toString("latin1", start, end)), undefined)
    else callback(undefined, result)
  }
}

const FAILED = Symbol("failed")

/** What a reply line means to the request it completes, or FAILED for an error or unexpected line. */
const outcome = (pending: Pending, buf: Buffer, start: number, end: number): unknown => {
  switch (pending.kind) {
    case Kind.One:
      return is(buf, start, end, END) ? pending.one : FAILED
    case Kind.Many:
      return is(buf, start, end, END) ? pending.many : FAILED
    case Kind.Status:
      if (is(buf, start, end, STORED) || is(buf, start, end, DELETED)) return true
      if (is(buf, start, end, NOT_STORED) || is(buf, start, end, EXISTS) || is(buf, start, end, NOT_FOUND)) return false
      return FAILED
    case Kind.Line:
      return buf.toString("latin1", start, end)
  }
}

/**
 * The client's calls as promises, the way the benchmark's loops use them.
 *
 * @example
 * ```ts
 * import { RawClient, promised } from "./RawClient.ts"
 * const client = promised(await RawClient.connect(11211))
 * const value = await client.get("k")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const promised = (client: RawClient) => ({
  get: (key: string) =>
    new Promise<Buffer | undefined>((resolve, reject) =>
      client.get(key, (error, value) => (error === undefined ? resolve(value) : reject(error)))
    ),
  getMany: (keys: ReadonlyArray<string>) =>
    new Promise<Map<string, Buffer>>((resolve, reject) =>
      client.getMany(keys, (error, values) => (error === undefined ? resolve(values) : reject(error)))
    ),
  set: (key: string, value: Uint8Array, noreply: boolean) =>
    new Promise<boolean>((resolve, reject) =>
      client.set(key, value, noreply, (error, stored) => (error === undefined ? resolve(stored) : reject(error)))
    ),
  line: (command: string) =>
    new Promise<string>((resolve, reject) =>
      client.line(command, (error, line) => (error === undefined ? resolve(line) : reject(error)))
    ),
  close: () => client.close()
})
