/**
 * The reference: a minimal pipelined text-protocol client on raw node:net, written for the benchmark. Commands
 * of one tick go out in one write (the single-key gets of a tick as one `get` line of their keys, each answered
 * as its value arrives); the socket reads into a buffer of the client's own (node:net's `onread`, reused while no
 * value views it, as this project's connection does), and replies are parsed incrementally from it (values are
 * zero-copy slices when they arrive whole, a line split across chunks is joined alone) and handed to a FIFO of
 * callbacks. No validation, no timeouts, no reconnection: the limit of one process on one connection.
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

const READ_SIZE = 65536
const MIN_READ = 16384

/**
 * The memory the socket reads into: one buffer, read into again while no value views it; after a read a value
 * views, the next read goes into the rest of the buffer (a fresh buffer once less than 16 KiB is left).
 */
class Reads {
  private buffer = Buffer.allocUnsafeSlow(READ_SIZE)
  private start = 0
  private target = this.buffer
  private last = 0
  /** Set when a value handed out views the current read, or a long value is assembled across reads. */
  kept = false
  sink: (chunk: Buffer) => void = () => {}
  readonly onread = {
    buffer: (): Buffer => {
      if (!this.kept) return this.target
      this.kept = false
      this.start += this.last
      if (READ_SIZE - this.start < MIN_READ) {
        this.buffer = Buffer.allocUnsafeSlow(READ_SIZE)
        this.start = 0
      }
      this.target = this.buffer.subarray(this.start)
      return this.target
    },
    callback: (length: number, target: Buffer): boolean => {
      this.last = length
      this.sink(target.subarray(0, length))
      return true
    }
  }
}

const Kind = { Gets: 0, Many: 1, Status: 2, Line: 3 } as const
type Kind = (typeof Kind)[keyof typeof Kind]

/** One request waiting for its reply. */
interface Pending {
  readonly kind: Kind
  readonly callback: Callback<never>
  /** Every value seen before END (Many). */
  many: Map<string, Buffer> | undefined
  /** Gets: the single-key gets of one tick sent as one line, their keys and callbacks (unset once answered). */
  keys: Array<string> | undefined
  /** The keys of a meta get run (Many), by opaque. */
  runKeys: ReadonlyArray<string> | undefined
  callbacks: Array<Callback<Buffer | undefined> | undefined> | undefined
  /** Gets: the next key to match (memcached answers in the order asked, misses left out). */
  next: number
  /** Gets: the bytes of the line so far. */
  lineBytes: number
}

/** A gets line holds keys up to about this many bytes (memcached reads longer lines too; this client splits). */
const MAX_GETS_LINE = 16 * 1024

const word = (s: string) => Buffer.from(s, "latin1")
const END = word("END")
const MN = word("MN")
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
  /** The gets of this tick, not written yet (the last request in the FIFO while set). */
  private openGets: Pending | undefined = undefined
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

  private readonly reads: Reads

  private constructor(socket: Net.Socket, reads: Reads) {
    this.socket = socket
    this.reads = reads
    reads.sink = (chunk) => this.onData(chunk)
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
      const reads = new Reads()
      const socket = Net.connect({ port, host, noDelay: true, onread: reads.onread })
      socket.once("error", reject)
      socket.once("connect", () => {
        socket.off("error", reject)
        resolve(new RawClient(socket, reads))
      })
    })
  }

  /**
   * `get <key>`: the value's bytes, or `undefined` for a miss. The gets of one tick go out as one `get` line of
   * their keys (as a client that batches its gets sends them), and each is answered as soon as its value has
   * arrived, not at the line's `END`.
   *
   * @since 0.1.0
   */
  get(key: string, callback: Callback<Buffer | undefined>): void {
    let gets = this.openGets
    if (gets === undefined || gets.lineBytes + key.length + 1 > MAX_GETS_LINE) {
      this.closeGets()
      gets = {
        kind: Kind.Gets,
        callback: noop,
        many: undefined,
        keys: [],
        runKeys: undefined,
        callbacks: [],
        next: 0,
        lineBytes: 3
      }
      this.fifo.push(gets)
      this.openGets = gets
      this.schedule()
    }
    gets.keys!.push(key)
    gets.callbacks!.push(callback)
    gets.lineBytes += key.length + 1
  }

  /** Writes the line of the open gets, if any: before any other command, and at the end of the tick. */
  private closeGets(): void {
    const gets = this.openGets
    if (gets === undefined) return
    this.openGets = undefined
    this.text(`get ${gets.keys!.join(" ")}\r\n`)
  }

  /**
   * `get <key>*`: the hits by key.
   *
   * @since 0.1.0
   */
  getMany(keys: ReadonlyArray<string>, callback: Callback<Map<string, Buffer>>): void {
    this.push(Kind.Many, callback, new Map())
    this.text(`get ${keys.join(" ")}\r\n`)
  }

  /**
   * The same as {@link getMany} in the meta protocol, as `protocol: "meta"` sends it: one quiet `mg <key> v f O<i> q`
   * per key, then `mn`; each hit's opaque says its key.
   *
   * @since 0.1.0
   */
  getManyMeta(keys: ReadonlyArray<string>, callback: Callback<Map<string, Buffer>>): void {
    this.push(Kind.Many, callback, new Map(), keys)
    let lines = ""
    for (let i = 0; i < keys.length; i++) lines += `mg ${keys[i]} v f O${i} q\r\n`
    this.text(`${lines}mn\r\n`)
  }

  /**
   * `set <key> 0 0 <bytes> [noreply]`: `true` when stored. With `noreply` the callback runs once the command is
   * handed to the socket.
   *
   * @since 0.1.0
   */
  set(key: string, value: Uint8Array, noreply: boolean, callback: Callback<boolean>): void {
    if (noreply) {
      this.closeGets()
      this.text(`set ${key} 0 0 ${value.length} noreply\r\n`)
      this.writtenCallbacks.push(() => callback(undefined, true))
    } else {
      this.push(Kind.Status, callback)
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
    this.push(Kind.Line, callback)
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

  /** Queues the reply a command expects (after the line of the open gets, which is written first). */
  private push(
    kind: Kind,
    callback: Callback<never>,
    many?: Map<string, Buffer>,
    runKeys?: ReadonlyArray<string> | undefined
  ): void {
    this.closeGets()
    this.fifo.push({ kind, callback, many, keys: undefined, runKeys, callbacks: undefined, next: 0, lineBytes: 0 })
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
    if (this.failure !== undefined) {
      this.flushScheduled = false
      return
    }
    // The gets' line joins this write (it schedules no other: the flag is still set).
    this.closeGets()
    this.flushScheduled = false
    if (this.parts.length === 0) {
      // Written from the scratch buffer itself; once the kernel has every byte (nothing left in Node's queue)
      // the buffer is reused, else the next tick's commands go to a new one.
      if (this.outLength > 0) {
        this.socket.write(this.out.subarray(0, this.outLength))
        this.outLength = 0
        if (this.socket.writableLength > 0) this.out = Buffer.allocUnsafe(this.out.length)
      }
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
    this.openGets = undefined
    while (this.head < this.fifo.length) {
      const pending = this.shift()
      if (pending?.kind === Kind.Gets) answerRest(pending, error)
      else pending?.callback(error, undefined as never)
    }
  }

  private onData(chunk: Buffer): void {
    let pos = 0
    if (this.body !== undefined) {
      const n = Math.min(this.body.length - this.bodyFilled, chunk.length)
      this.body.set(chunk.subarray(0, n), this.bodyFilled)
      this.bodyFilled += n
      pos = n
      if (this.bodyFilled < this.body.length) {
        this.reads.kept = true
        return
      }
      this.value(this.bodyKey, this.body)
      this.body = undefined
      this.skip = 2
    }
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length - pos)
      this.skip -= n
      pos += n
      if (this.skip > 0) return
    }
    if (this.carry !== undefined) {
      // Only the carried line is joined (never the rest of the chunk): a copy of a few bytes.
      const lf = chunk.indexOf(LF, pos)
      if (lf === -1) {
        this.carry = Buffer.concat([this.carry, chunk.subarray(pos)])
        return
      }
      const line = Buffer.concat([this.carry, chunk.subarray(pos, lf + 1)])
      this.carry = undefined
      pos = this.onWholeLine(line, 0, line.length - 1, chunk, lf + 1)
      if (pos < 0) return
    }
    while (pos < chunk.length) {
      const lf = chunk.indexOf(LF, pos)
      if (lf === -1) {
        // A partial line: its own small copy (a view would keep the whole chunk alive).
        this.carry = Buffer.from(chunk.subarray(pos))
        return
      }
      pos = this.onWholeLine(chunk, pos, lf, chunk, lf + 1)
      if (pos < 0) return
    }
  }

  /**
   * The line `line[start, lf)` (its `\n` at `lf`), followed in `chunk` by what starts at `next`: a `VALUE` line
   * reads its value from there. Returns where the chunk continues, or -1 when it is used up.
   */
  private onWholeLine(line: Buffer, start: number, lf: number, chunk: Buffer, next: number): number {
    const end = lf > start && line[lf - 1] === CR ? lf - 1 : lf
    // VALUE <key> <flags> <bytes> [<cas>]
    if (line[start] !== 0x56 || line[start + 1] !== 0x41) {
      this.onLine(line, start, end)
      return next
    }
    let key: string
    let bytes = 0
    if (line[start + 2] === 0x20) {
      // VA <bytes> f<flags> O<index of the key>
      let i = start + 3
      for (; line[i] !== 0x20 && i < end; i++) bytes = bytes * 10 + (line[i]! - 48)
      const o = line.indexOf(0x4f, i)
      let index = 0
      for (let j = o + 1; j < end; j++) index = index * 10 + (line[j]! - 48)
      key = this.peek()?.runKeys?.[index] ?? ""
    } else {
      const keyStart = start + 6
      const keyEnd = line.indexOf(0x20, keyStart)
      const flagsEnd = line.indexOf(0x20, keyEnd + 1)
      for (let i = flagsEnd + 1; i < end; i++) {
        const c = line[i]!
        if (c === 0x20) break
        bytes = bytes * 10 + (c - 48)
      }
      key = line.toString("latin1", keyStart, keyEnd)
    }
    if (next + bytes + 2 <= chunk.length) {
      // Whole in this chunk: a view, no copy (so the chunk's memory is not read into again).
      this.reads.kept = true
      this.value(key, chunk.subarray(next, next + bytes))
      return next + bytes + 2
    }
    const body = Buffer.allocUnsafeSlow(bytes)
    const n = Math.min(bytes, chunk.length - next)
    body.set(chunk.subarray(next, next + n), 0)
    if (n === bytes) {
      this.value(key, body)
      this.skip = 2 - (chunk.length - next - n)
      return -1
    }
    // A body assembled across reads: each read gets fresh memory, as this project's connection gives it.
    this.reads.kept = true
    this.body = body
    this.bodyFilled = n
    this.bodyKey = key
    return -1
  }

  private value(key: string, value: Buffer): void {
    const pending = this.peek()
    if (pending === undefined) return
    if (pending.kind === Kind.Many) pending.many!.set(key, value)
    else if (pending.kind === Kind.Gets) {
      const keys = pending.keys!
      let i = pending.next
      while (i < keys.length && keys[i] !== key) i++
      if (i === keys.length) return
      pending.next = i + 1
      const callback = pending.callbacks![i]
      pending.callbacks![i] = undefined
      callback?.(undefined, value)
    }
  }

  private onLine(buf: Buffer, start: number, end: number): void {
    const pending = this.shift()
    if (pending === undefined) return
    if (pending.kind === Kind.Gets) {
      // END: every key not answered is a miss; an error line fails them.
      answerRest(pending, is(buf, start, end, END) ? undefined : new Error(buf.toString("latin1", start, end)))
      return
    }
    const callback = pending.callback as Callback<unknown>
    const result = outcome(pending, buf, start, end)
    if (result === FAILED) callback(new Error(buf.toString("latin1", start, end)), undefined)
    else callback(undefined, result)
  }
}

const FAILED = Symbol("failed")

const noop = (): void => {}

/** Answers the gets of a line not answered yet: misses, or the error. */
const answerRest = (pending: Pending, error: Error | undefined): void => {
  const callbacks = pending.callbacks!
  for (let i = 0; i < callbacks.length; i++) {
    const callback = callbacks[i]
    callbacks[i] = undefined
    callback?.(error, undefined)
  }
}

/** What a reply line means to the request it completes, or FAILED for an error or unexpected line. */
const outcome = (pending: Pending, buf: Buffer, start: number, end: number): unknown => {
  switch (pending.kind) {
    case Kind.Gets:
      return FAILED
    case Kind.Many:
      return is(buf, start, end, END) || is(buf, start, end, MN) ? pending.many : FAILED
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
  getManyMeta: (keys: ReadonlyArray<string>) =>
    new Promise<Map<string, Buffer>>((resolve, reject) =>
      client.getManyMeta(keys, (error, values) => (error === undefined ? resolve(values) : reject(error)))
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
