/**
 * Every command, encoded by `Command`, sent to a real memcached over a bare socket, and its replies decoded by
 * `Decoder`: the encoder and decoder are checked against the server itself, not against our reading of the
 * protocol. The connection is a few lines of node:net on purpose: no client code is involved.
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Command, Decoder, Encoder, type Errors, KeyList, Meta, Reply, Validation } from "@effect-memcache/protocol"
import { type MemcachedServer, startMemcached, useMemcached } from "../../../testing/Memcached.ts"

// ---------------------------------------------------------------------------------------------------------------
// a raw connection: Encoder.encode bytes out, Decoder replies in
// ---------------------------------------------------------------------------------------------------------------

type QuietError = Reply.ErrorReply | Reply.ClientErrorReply | Reply.ServerErrorReply

interface Batch {
  readonly count: number
  readonly replies: Array<Reply.Reply>
  readonly resolve: (replies: Array<Reply.Reply>) => void
  readonly reject: (error: Error) => void
}

interface SendOptions {
  readonly limits?: Validation.Limits
  /** Write through an `Encoder.Encoder` (coalesced chunks) instead of one `Encoder.encode` per command. */
  readonly encoder?: Encoder.Encoder
}

const REPLY_TIMEOUT_MILLIS = 10_000

/** Why validation refuses a command, or `undefined` when it accepts it. */
const refusal = (command: Command.Command): Errors.InvalidInput | undefined => {
  const result = Validation.validate(command)
  return Validation.isInvalid(result) ? result : undefined
}

class Connection {
  /** Every chunk the server sent, as received (for re-decoding the same stream). */
  readonly received: Array<Uint8Array> = []
  /** Every expectation queued, in order. */
  readonly expected: Array<Reply.Expectation> = []
  /** Error lines delivered to `onQuietError` (errors of noreply/quiet commands before an `mn`). */
  readonly quietErrors: Array<QuietError> = []
  readonly decoder: Decoder.Decoder
  readonly closed: Promise<void>
  private readonly batches: Array<Batch> = []
  private isClosed = false

  readonly socket: net.Socket

  private constructor(socket: net.Socket, options: { readonly maxValueLength?: number }) {
    this.socket = socket
    this.decoder = new Decoder.Decoder({
      onReply: (reply) => this.onReply(reply),
      onError: (error) => this.onError(error),
      onQuietError: (reply) => this.quietErrors.push(reply),
      ...options
    })
    socket.on("data", (chunk: Buffer) => {
      this.received.push(chunk)
      this.decoder.feed(chunk)
    })
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.isClosed = true
        // What arrived before the close is the answer; callers compare its length with what they sent.
        for (const batch of this.batches.splice(0)) batch.resolve(batch.replies)
        resolve()
      })
    })
    socket.on("error", () => {
      // Reported through "close"; a reset by the server (shutdown) is expected in some tests.
    })
  }

  static open(server: MemcachedServer, options: { readonly maxValueLength?: number } = {}): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: server.host, port: server.port })
      socket.once("error", reject)
      socket.once("connect", () => {
        socket.off("error", reject)
        socket.setNoDelay(true)
        resolve(new Connection(socket, options))
      })
    })
  }

  /** Writes the commands in one go and resolves with the replies their expectations produce, in order. */
  send(commands: ReadonlyArray<Command.Command>, options: SendOptions = {}): Promise<Array<Reply.Reply>> {
    const parts: Array<Uint8Array> = []
    let count = 0
    for (const command of commands) {
      const checked = Validation.validate(command, options.limits)
      if (Validation.isInvalid(checked)) throw checked
      if (options.encoder !== undefined) options.encoder.append(checked)
      else parts.push(Encoder.encode(checked))
      const expectation = Reply.expectation(command)
      if (expectation !== undefined) {
        this.decoder.expect(expectation)
        this.expected.push(expectation)
        count++
      }
    }
    if (options.encoder !== undefined) parts.push(...options.encoder.take())
    const result = new Promise<Array<Reply.Reply>>((resolve, reject) => {
      if (count === 0 || this.isClosed) return resolve([])
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no complete reply after ${REPLY_TIMEOUT_MILLIS} ms; got ${JSON.stringify(batch.replies.map(normalize))}`
            )
          ),
        REPLY_TIMEOUT_MILLIS
      )
      const batch: Batch = {
        count,
        replies: [],
        resolve: (replies) => {
          clearTimeout(timer)
          resolve(replies)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        }
      }
      this.batches.push(batch)
    })
    for (const part of parts) this.socket.write(part)
    return result
  }

  close(): Promise<void> {
    this.socket.destroy()
    return this.closed
  }

  private onReply(reply: Reply.Reply) {
    const batch = this.batches[0]
    if (batch === undefined) throw new Error(`reply with no batch waiting: ${JSON.stringify(normalize(reply))}`)
    batch.replies.push(reply)
    if (batch.replies.length === batch.count) {
      this.batches.shift()
      batch.resolve(batch.replies)
    }
  }

  private onError(error: Errors.ProtocolError) {
    for (const batch of this.batches.splice(0)) batch.reject(error)
  }
}

const withConnection = async <A>(
  server: MemcachedServer,
  body: (connection: Connection) => Promise<A>,
  options: { readonly maxValueLength?: number } = {}
): Promise<A> => {
  const connection = await Connection.open(server, options)
  try {
    const result = await body(connection)
    expect(connection.decoder.failed).toBeUndefined()
    return result
  } finally {
    await connection.close()
  }
}

/** One batch on a fresh connection. */
const roundTrip = (
  server: MemcachedServer,
  commands: ReadonlyArray<Command.Command>,
  options: SendOptions & { readonly maxValueLength?: number } = {}
): Promise<Array<Reply.Reply>> =>
  withConnection(server, (connection) => connection.send(commands, options), {
    ...(options.maxValueLength !== undefined ? { maxValueLength: options.maxValueLength } : {})
  })

// ---------------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------------

const utf8 = new TextEncoder()
const bytes = (text: string): Uint8Array => utf8.encode(text)
const latin1 = (value: Uint8Array): string =>
  Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1")

/** A reply with every byte array turned into latin1 text (comparable across Buffer / Uint8Array views). */
const normalize = (reply: Reply.Reply): unknown => {
  switch (reply._tag) {
    case "Values":
      return { _tag: "Values", values: reply.values.map((v) => ({ ...v, value: latin1(v.value) })) }
    case "Meta":
      return { ...reply, value: reply.value === undefined ? undefined : latin1(reply.value) }
    default:
      return reply
  }
}

const tags = (replies: ReadonlyArray<Reply.Reply>): Array<string> => replies.map((r) => r._tag)

interface PlainValue {
  readonly key: string
  readonly flags: number
  readonly value: string
  readonly cas: bigint | undefined
}

const valuesOf = (reply: Reply.Reply | undefined): Array<PlainValue> => {
  if (reply?._tag !== "Values") throw new Error(`expected Values, got ${JSON.stringify(reply && normalize(reply))}`)
  return reply.values.map((v) => ({ key: v.key, flags: v.flags, value: latin1(v.value), cas: v.cas }))
}

const metaOf = (reply: Reply.Reply | undefined): Reply.Meta => {
  if (reply?._tag !== "Meta") throw new Error(`expected Meta, got ${JSON.stringify(reply && normalize(reply))}`)
  return reply
}

const casOf = (reply: Reply.Reply | undefined): bigint => {
  const cas = valuesOf(reply)[0]?.cas
  if (cas === undefined) throw new Error("no cas in reply")
  return cas
}

const statsOf = (reply: Reply.Reply | undefined): Map<string, string> => {
  if (reply?._tag !== "Stats") throw new Error(`expected Stats, got ${JSON.stringify(reply && normalize(reply))}`)
  return new Map(reply.stats)
}

const value = (key: string, flags: number, text: string, cas?: bigint): PlainValue => ({
  key,
  flags,
  value: text,
  cas
})

const meta = (code: Reply.Meta["code"], flags: Reply.MetaFlags = {}, data?: string) => ({
  _tag: "Meta",
  code,
  flags,
  value: data
})

const MN = meta("MN")

const numeric = (n: bigint): Reply.Numeric => ({ _tag: "Numeric", value: n })

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
const randomBytes = (length: number, seed: number): Uint8Array => {
  const out = new Uint8Array(length)
  let x = seed | 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/** Decodes `chunks` (copied, so no view can alias the live connection's buffers) with a fresh decoder. */
const redecode = (
  expectations: ReadonlyArray<Reply.Expectation>,
  chunks: Iterable<Uint8Array>,
  maxValueLength?: number
) => {
  const replies: Array<Reply.Reply> = []
  const errors: Array<Errors.ProtocolError> = []
  const quietErrors: Array<QuietError> = []
  const decoder = new Decoder.Decoder({
    onReply: (reply) => replies.push(reply),
    onError: (error) => errors.push(error),
    onQuietError: (reply) => quietErrors.push(reply),
    ...(maxValueLength !== undefined ? { maxValueLength } : {})
  })
  for (const expectation of expectations) decoder.expect(expectation)
  for (const chunk of chunks) decoder.feed(chunk.slice())
  return { replies, errors, quietErrors, decoder }
}

function* byteAtATime(data: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < data.length; i++) yield data.subarray(i, i + 1)
}

function* randomCuts(data: Uint8Array, seed: number): Generator<Uint8Array> {
  const sizes = randomBytes(data.length, seed)
  let i = 0
  let k = 0
  while (i < data.length) {
    // Mostly tiny pieces (1..16 bytes), now and then a larger one, so cuts land inside lines, blocks and CRLFs.
    const s = sizes[k++ % sizes.length]!
    const size = s < 224 ? (s % 16) + 1 : (s % 32) * 64 + 1
    yield data.subarray(i, i + size)
    i += size
  }
}

const waitUntil = async (condition: () => boolean | Promise<boolean>, what: string, millis = 10_000) => {
  const deadline = Date.now() + millis
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// text commands
// ---------------------------------------------------------------------------------------------------------------

describe("RoundTrip: text commands against memcached", () => {
  const memcached = useMemcached()

  it("set / add / replace / append / prepend: every reply, and the stored result", async () => {
    const replies = await roundTrip(memcached(), [
      Command.set("st:a", bytes("one"), { flags: 7 }),
      Command.add("st:a", bytes("x")),
      Command.add("st:b", bytes("two"), { flags: 4294967295 }),
      Command.replace("st:missing", bytes("x")),
      Command.replace("st:b", bytes("TWO"), { flags: 1 }),
      Command.append("st:missing", bytes("x")),
      Command.prepend("st:missing", bytes("x")),
      // append/prepend ignore the flags and exptime they are given.
      Command.append("st:a", bytes(">"), { flags: 99, exptime: 1 }),
      Command.prepend("st:a", bytes("<"), { flags: 98 }),
      Command.set("st:empty", new Uint8Array(0)),
      Command.get(["st:a", "st:b", "st:missing", "st:empty"])
    ])
    expect(replies.slice(0, 10)).toEqual([
      Reply.replies.Stored,
      Reply.replies.NotStored,
      Reply.replies.Stored,
      Reply.replies.NotStored,
      Reply.replies.Stored,
      Reply.replies.NotStored,
      Reply.replies.NotStored,
      Reply.replies.Stored,
      Reply.replies.Stored,
      Reply.replies.Stored
    ])
    // No-data replies are the shared objects.
    expect(replies[0]).toBe(Reply.replies.Stored)
    expect(replies[1]).toBe(Reply.replies.NotStored)
    expect(valuesOf(replies[10])).toEqual([
      value("st:a", 7, "<one>"),
      value("st:b", 1, "TWO"),
      value("st:empty", 0, "")
    ])
  })

  it("cas: STORED with the current unique, EXISTS when stale or 0, NOT_FOUND when missing", async () => {
    await withConnection(memcached(), async (c) => {
      const [, got] = await c.send([Command.set("cas:a", bytes("v1"), { flags: 3 }), Command.gets("cas:a")])
      const unique = casOf(got)
      const replies = await c.send([
        Command.cas("cas:a", bytes("v2"), unique, { flags: 4 }),
        Command.cas("cas:a", bytes("v3"), unique),
        Command.cas("cas:a", bytes("v4"), 0n),
        Command.cas("cas:missing", bytes("v"), unique),
        Command.cas("cas:a", bytes("v5"), 18446744073709551615n),
        Command.gets("cas:a")
      ])
      expect(replies.slice(0, 5)).toEqual([
        Reply.replies.Stored,
        Reply.replies.Exists,
        Reply.replies.Exists,
        Reply.replies.NotFound,
        Reply.replies.Exists
      ])
      const [after] = valuesOf(replies[5])
      expect(after).toMatchObject({ key: "cas:a", flags: 4, value: "v2" })
      expect(after!.cas).toBeGreaterThan(unique)
    })
  })

  it("noreply: nothing comes back, `mn` (Command.sync) answers MN, and the effects are there", async () => {
    await withConnection(memcached(), async (c) => {
      const quiet = { noreply: true }
      const first = await c.send([
        Command.set("nr:a", bytes("1"), { flags: 2, noreply: true }),
        Command.add("nr:a", bytes("x"), quiet), // fails silently
        Command.add("nr:b", bytes("b"), quiet),
        Command.replace("nr:b", bytes("B"), quiet),
        Command.replace("nr:missing", bytes("x"), quiet), // fails silently
        Command.append("nr:a", bytes("0"), quiet),
        Command.prepend("nr:a", bytes("9"), quiet),
        Command.incr("nr:a", 5n, quiet), // 910 + 5
        Command.decr("nr:a", 15n, quiet), // 915 - 15
        Command.touch("nr:a", 1000, quiet),
        Command.delete("nr:b", quiet),
        Command.delete("nr:missing", quiet), // fails silently
        Command.set("nr:text", bytes("abc"), quiet),
        Command.incr("nr:text", 1n, quiet), // CLIENT_ERROR, suppressed by the server
        Command.verbosity(0, quiet),
        Command.cacheMemlimit(64, quiet),
        Command.sync
      ])
      expect(first.map(normalize)).toEqual([MN])
      const [got, ttl] = await c.send([Command.gets("nr:a"), Meta.get("nr:a", { ttl: true })])
      expect(metaOf(ttl).flags.ttl).toBeGreaterThan(990)
      const second = await c.send([
        Command.cas("nr:a", bytes("cas'd"), casOf(got), { flags: 6, noreply: true }),
        Command.cas("nr:a", bytes("stale"), casOf(got), quiet), // EXISTS, suppressed
        Command.sync,
        Command.get(["nr:a", "nr:b", "nr:text"]),
        Command.sync
      ])
      expect(second).toHaveLength(3)
      expect(normalize(second[0]!)).toEqual(MN)
      expect(valuesOf(second[1])).toEqual([value("nr:a", 6, "cas'd"), value("nr:text", 0, "abc")])
      expect(normalize(second[2]!)).toEqual(MN)
      // The silent commands took effect in order: "1" + "0" appended, "9" prepended, +5, -15.
      expect(valuesOf(got)[0]).toMatchObject({ value: "900", flags: 2 })
      expect(c.quietErrors).toEqual([])
    })
  })

  it("get / gets / gat / gats with one key and many, misses and duplicates", async () => {
    await withConnection(memcached(), async (c) => {
      const unicode = "é".repeat(125) // 250 bytes in UTF-8, the longest key
      const long = "k".repeat(250)
      const stored = await c.send([
        Command.set("g:a", bytes("A"), { flags: 1 }),
        Command.set("g:b", bytes("BB"), { flags: 2 }),
        Command.set(unicode, bytes("é")),
        Command.set(long, bytes("long"))
      ])
      expect(tags(stored)).toEqual(["Stored", "Stored", "Stored", "Stored"])
      const replies = await c.send([
        Command.get("g:a"),
        Command.get(["g:a", "g:nokey", "g:b", "g:a", "g:a"]),
        Command.get(["g:nokey"]),
        Command.get([unicode, long, "g:nokey", unicode]),
        Command.gets(["g:a", "g:b", "g:nokey", "g:a"]),
        Command.gets("g:nokey")
      ])
      expect(valuesOf(replies[0])).toEqual([value("g:a", 1, "A")])
      expect(valuesOf(replies[1])).toEqual([
        value("g:a", 1, "A"),
        value("g:b", 2, "BB"),
        value("g:a", 1, "A"),
        value("g:a", 1, "A")
      ])
      expect(replies[2]).toEqual({ _tag: "Values", values: [] })
      expect(valuesOf(replies[3])).toEqual([
        value(unicode, 0, latin1(bytes("é"))),
        value(long, 0, "long"),
        value(unicode, 0, latin1(bytes("é")))
      ])
      const withCas = valuesOf(replies[4])
      expect(withCas.map((v) => [v.key, v.value])).toEqual([
        ["g:a", "A"],
        ["g:b", "BB"],
        ["g:a", "A"]
      ])
      for (const v of withCas) expect(typeof v.cas).toBe("bigint")
      expect(withCas[0]!.cas).toBe(withCas[2]!.cas)
      expect(withCas[0]!.cas).not.toBe(withCas[1]!.cas)
      expect(replies[5]).toEqual({ _tag: "Values", values: [] })

      const touched = await c.send([
        Command.gat(1000, "g:a"),
        Command.gat(2000, ["g:a", "g:nokey", "g:b", "g:b"]),
        Command.gats(0, ["g:b", "g:nokey", "g:a"]),
        Command.gats(3000, "g:nokey"),
        Meta.get("g:a", { ttl: true }),
        Meta.get("g:b", { ttl: true })
      ])
      expect(valuesOf(touched[0])).toEqual([value("g:a", 1, "A")])
      expect(valuesOf(touched[1])).toEqual([value("g:a", 1, "A"), value("g:b", 2, "BB"), value("g:b", 2, "BB")])
      // gat/gats do not change the CAS unique.
      expect(valuesOf(touched[2])).toEqual([
        value("g:b", 2, "BB", withCas[1]!.cas),
        value("g:a", 1, "A", withCas[0]!.cas)
      ])
      expect(touched[3]).toEqual({ _tag: "Values", values: [] })
      // g:a was touched to 2000 s, then to 0 (never); g:b to 2000 then never.
      expect(metaOf(touched[4]).flags.ttl).toBe(-1)
      expect(metaOf(touched[5]).flags.ttl).toBe(-1)

      const expiring = await c.send([Command.gat(-1, "g:b"), Command.get("g:b"), Command.gat(500, "g:a")])
      expect(valuesOf(expiring[0])).toEqual([value("g:b", 2, "BB")])
      expect(valuesOf(expiring[1])).toEqual([])
      const [ttl] = await c.send([Meta.get("g:a", { ttl: true })])
      expect(metaOf(ttl).flags.ttl).toBeGreaterThanOrEqual(498)
      expect(metaOf(ttl).flags.ttl).toBeLessThanOrEqual(500)
    })
  })

  it("a gat line split with splitKeys stays within the server's line limit and returns every key", async () => {
    await withConnection(memcached(), async (c) => {
      const keys = Array.from({ length: 40 }, (_, i) => `split:${String(i).padStart(3, "0")}:${"x".repeat(90)}`)
      await c.send([...keys.map((key, i) => Command.set(key, bytes(String(i)), { noreply: true })), Command.sync])
      const groups = KeyList.splitKeys("gat", keys, { exptime: 100 })
      expect(groups.length).toBeGreaterThan(1)
      // The whole list in one gat is refused before anything is sent.
      expect(refusal(Command.gat(100, keys))?.field).toBe("line")
      const replies = await c.send(groups.map((group) => Command.gat(100, group)))
      expect(replies.flatMap((r) => valuesOf(r).map((v) => [v.key, v.value]))).toEqual(
        keys.map((key, i) => [key, String(i)])
      )
    })
  })

  it("delete: DELETED, then NOT_FOUND", async () => {
    const replies = await roundTrip(memcached(), [
      Command.set("del:a", bytes("x")),
      Command.delete("del:a"),
      Command.delete("del:a"),
      Command.get("del:a")
    ])
    expect(replies).toEqual([
      Reply.replies.Stored,
      Reply.replies.Deleted,
      Reply.replies.NotFound,
      { _tag: "Values", values: [] }
    ])
  })

  it("incr / decr: u64 wrap, floor at 0, padding visible in a later get, errors", async () => {
    const replies = await roundTrip(memcached(), [
      Command.set("n:max", bytes("18446744073709551615")),
      Command.incr("n:max", 1n),
      Command.get("n:max"),
      Command.set("n:zero", bytes("0")),
      Command.incr("n:zero", 18446744073709551615n),
      Command.set("n:floor", bytes("5")),
      Command.decr("n:floor", 10n),
      Command.set("n:pad", bytes("100"), { flags: 9 }),
      Command.decr("n:pad", 1n),
      Command.get("n:pad"),
      Command.incr("n:pad", 1n),
      Command.set("n:lead", bytes("007")),
      Command.incr("n:lead", 1n),
      Command.incr("n:missing", 1n),
      Command.decr("n:missing", 1n),
      Command.set("n:text", bytes("abc")),
      Command.incr("n:text", 1n),
      Command.decr("n:text", 1n)
    ])
    expect(replies.map(normalize)).toEqual([
      Reply.replies.Stored,
      numeric(0n),
      { _tag: "Values", values: [{ key: "n:max", flags: 0, value: `0${" ".repeat(19)}`, cas: undefined }] },
      Reply.replies.Stored,
      numeric(18446744073709551615n),
      Reply.replies.Stored,
      numeric(0n),
      Reply.replies.Stored,
      numeric(99n),
      { _tag: "Values", values: [{ key: "n:pad", flags: 9, value: "99 ", cas: undefined }] },
      numeric(100n),
      Reply.replies.Stored,
      numeric(8n),
      Reply.replies.NotFound,
      Reply.replies.NotFound,
      Reply.replies.Stored,
      { _tag: "ClientError", text: "cannot increment or decrement non-numeric value" },
      { _tag: "ClientError", text: "cannot increment or decrement non-numeric value" }
    ])
  })

  it("touch: TOUCHED and the new TTL, NOT_FOUND when missing", async () => {
    const replies = await roundTrip(memcached(), [
      Command.set("t:a", bytes("x")),
      Command.touch("t:a", 1000),
      Command.touch("t:missing", 1000),
      Meta.get("t:a", { ttl: true })
    ])
    expect(replies.slice(0, 3)).toEqual([Reply.replies.Stored, Reply.replies.Touched, Reply.replies.NotFound])
    expect(metaOf(replies[3]).flags.ttl).toBeGreaterThanOrEqual(998)
    expect(metaOf(replies[3]).flags.ttl).toBeLessThanOrEqual(1000)
  })

  it("stats: general, settings, items, slabs, reset, detail on / dump / off, cachedump, unknown", async () => {
    const replies = await roundTrip(memcached(), [
      Command.set("pfx:a", bytes("x")),
      Command.stats(),
      Command.stats(["settings"]),
      Command.stats(["items"]),
      Command.stats(["slabs"]),
      Command.stats(["reset"]),
      Command.stats(["detail", "on"]),
      Command.get("pfx:a"),
      Command.set("pfx:b", bytes("y")),
      Command.stats(["detail", "dump"]),
      Command.stats(["detail", "off"]),
      Command.stats(["cachedump", "1", "0"]),
      Command.stats(["nosuch"])
    ])
    const general = statsOf(replies[1])
    expect(general.get("version")).toMatch(/^1\.6\.\d+/)
    expect(Number(general.get("pid"))).toBe(memcached().pid)
    expect(Number(general.get("curr_items"))).toBeGreaterThanOrEqual(1)
    expect(general.size).toBeGreaterThan(50)
    const settings = statsOf(replies[2])
    expect(settings.get("item_size_max")).toBe("1048576")
    expect(settings.get("tcpport")).toBe(String(memcached().port))
    const items = statsOf(replies[3])
    expect(Number(items.get("items:1:number"))).toBeGreaterThanOrEqual(1)
    const slabs = statsOf(replies[4])
    expect(Number(slabs.get("active_slabs"))).toBeGreaterThanOrEqual(1)
    expect(slabs.get("1:chunk_size")).toBe("96")
    expect(replies[5]).toBe(Reply.replies.Reset)
    expect(replies[6]).toBe(Reply.replies.Ok)
    expect(valuesOf(replies[7])).toEqual([value("pfx:a", 0, "x")])
    const dump = replies[9]
    expect(dump).toEqual({ _tag: "Stats", stats: [], lines: ["PREFIX pfx get 1 hit 1 set 1 del 0"] })
    expect(replies[10]).toBe(Reply.replies.Ok)
    const cachedump = replies[11]
    if (cachedump?._tag !== "Stats") throw new Error("expected Stats")
    expect(cachedump.stats).toEqual([])
    // Which items a cachedump lists depends on the server's LRU maintainer thread; their form does not.
    for (const line of cachedump.lines) expect(line).toMatch(/^ITEM \S+ \[\d+ b; \d+ s\]$/)
    expect(replies[12]).toEqual({ _tag: "Error", text: "" })
  })

  it("version, verbosity", async () => {
    const replies = await roundTrip(memcached(), [Command.version, Command.verbosity(1), Command.verbosity(0)])
    expect(replies[0]?._tag).toBe("Version")
    expect(replies[0]).toMatchObject({ version: expect.stringMatching(/^1\.6\.\d+/) })
    expect(replies.slice(1)).toEqual([Reply.replies.Ok, Reply.replies.Ok])
  })

  it("cache_memlimit: OK, and MEMLIMIT_TOO_SMALL as a Status reply", async () => {
    const replies = await roundTrip(memcached(), [
      Command.cacheMemlimit(100),
      Command.cacheMemlimit(2),
      Command.cacheMemlimit(64)
    ])
    expect(replies).toEqual([
      Reply.replies.Ok,
      { _tag: "Status", word: "MEMLIMIT_TOO_SMALL", text: "cannot set maxbytes to less than 8m" },
      Reply.replies.Ok
    ])
  })

  it("quit: no reply, the connection closes, and what was pipelined after it is dropped", async () => {
    const connection = await Connection.open(memcached())
    const replies = await connection.send([Command.version, Command.quit, Command.version])
    await connection.closed
    expect(tags(replies)).toEqual(["Version"])
    // The second version was dropped by the server: its expectation is still pending, and no byte is left over.
    expect(connection.decoder.pending).toBe(1)
    expect(connection.decoder.buffered).toBe(0)
    expect(connection.decoder.failed).toBeUndefined()
    expect(Reply.expectation(Command.quit)).toBeUndefined()
  })

  it("shutdown without -A: the ERROR: text reply, and the connection stays usable", async () => {
    const replies = await roundTrip(memcached(), [
      Command.shutdown(),
      Command.shutdown({ graceful: true }),
      Command.version
    ])
    expect(replies.slice(0, 2)).toEqual([
      { _tag: "Error", text: "shutdown not enabled" },
      { _tag: "Error", text: "shutdown not enabled" }
    ])
    expect(replies[2]?._tag).toBe("Version")
    expect(memcached().running).toBe(true)
  })

  it("values holding protocol text, every byte value, and CR/LF at the edges round-trip exactly", async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const cases: ReadonlyArray<readonly [string, Uint8Array]> = [
      ["bin:end", bytes("a\r\nEND\r\nb")],
      ["bin:endonly", bytes("\r\nEND\r\n")],
      ["bin:value", bytes("VALUE x 0 1\r\nx\r\nEND\r\n")],
      ["bin:meta", bytes("VA 3 t-1\r\nabc\r\nHD\r\nMN\r\n")],
      ["bin:crlf", bytes("\r\n")],
      ["bin:cr", bytes("\r")],
      ["bin:lf", bytes("\n")],
      ["bin:all", all],
      ["bin:allrev", all.slice().reverse()],
      ["bin:random", randomBytes(70_000, 7)]
    ]
    const replies = await roundTrip(memcached(), [
      ...cases.map(([key, data]) => Command.set(key, data, { flags: data.length })),
      Command.get(cases.map(([key]) => key)),
      ...cases.map(([key]) => Meta.get(key, { value: true, size: true, clientFlags: true })),
      ...cases.map(([key, data]) => Meta.set(`${key}:ms`, data, { clientFlags: 1 })),
      Command.gets(cases.map(([key]) => `${key}:ms`))
    ])
    const n = cases.length
    expect(replies.slice(0, n)).toEqual(cases.map(() => Reply.replies.Stored))
    expect(valuesOf(replies[n])).toEqual(cases.map(([key, data]) => value(key, data.length, latin1(data))))
    for (let i = 0; i < n; i++) {
      const data = cases[i]![1]
      expect(normalize(replies[n + 1 + i]!)).toEqual(
        meta("VA", { size: data.length, flags: data.length }, latin1(data))
      )
    }
    expect(replies.slice(2 * n + 1, 3 * n + 1).map(normalize)).toEqual(cases.map(() => meta("HD")))
    expect(valuesOf(replies[3 * n + 1]).map((v) => [v.key, v.flags, v.value])).toEqual(
      cases.map(([key, data]) => [`${key}:ms`, 1, latin1(data)])
    )
  })

  it("the Encoder's coalesced chunks (large values by reference) round-trip like Encoder.encode", async () => {
    const encoder = new Encoder.Encoder({ initialCapacity: 64, copyThreshold: 1024 })
    const big = randomBytes(300_000, 11)
    const small = bytes("small\r\nEND\r\n")
    const commands: Array<Command.Command> = [
      Command.set("enc:big", big, { flags: 5 }),
      Command.set("enc:small", small),
      Meta.set("enc:ms", big, { clientFlags: 6, returnCas: true }),
      ...Array.from({ length: 200 }, (_, i) => Command.set(`enc:${i}`, bytes(`v${i}`), { noreply: true })),
      Command.sync,
      Command.get(["enc:big", "enc:small", "enc:0", "enc:199"]),
      Meta.get("enc:ms", { value: true, clientFlags: true })
    ]
    const replies = await roundTrip(memcached(), commands, { encoder })
    expect(encoder.size).toBe(0)
    expect(tags(replies)).toEqual(["Stored", "Stored", "Meta", "Meta", "Values", "Meta"])
    expect(metaOf(replies[3]).code).toBe("MN")
    expect(valuesOf(replies[4])).toEqual([
      value("enc:big", 5, latin1(big)),
      value("enc:small", 0, latin1(small)),
      value("enc:0", 0, "v0"),
      value("enc:199", 0, "v199")
    ])
    const ms = metaOf(replies[5])
    expect(ms.flags.flags).toBe(6)
    expect(latin1(ms.value!)).toBe(latin1(big))
  })
})

// ---------------------------------------------------------------------------------------------------------------
// meta commands
// ---------------------------------------------------------------------------------------------------------------

describe("RoundTrip: meta commands against memcached", () => {
  const memcached = useMemcached()

  it("mg: every flag (v s f t c k h l O q u T N R) on a hit and a miss", async () => {
    await withConnection(memcached(), async (c) => {
      const [set] = await c.send([Meta.set("mg:a", bytes("hello"), { clientFlags: 42, returnCas: true })])
      const cas = metaOf(set).flags.cas
      expect(typeof cas).toBe("bigint")
      const replies = await c.send([
        Meta.get("mg:a", {
          value: true,
          size: true,
          clientFlags: true,
          ttl: true,
          cas: true,
          returnKey: true,
          hit: true,
          lastAccess: true,
          opaque: "op-1"
        }),
        // Second fetch: now it was hit before.
        Meta.get("mg:a", { hit: true, noBump: true }),
        // t before T: the TTL from before the touch.
        Meta.get("mg:a", { ttl: true, touch: 1000 }),
        Meta.get("mg:a", { ttl: true }),
        // A quiet hit is still returned.
        Meta.get("mg:a", { value: true, quiet: true, opaque: "q1" }),
        // A quiet miss is suppressed: the decoder infers EN when the MN arrives.
        Meta.get("mg:nokey", { value: true, quiet: true, opaque: "q2" }),
        Command.sync,
        // A miss with k and O echoes both.
        Meta.get("mg:nokey", { value: true, returnKey: true, opaque: "op-2" }),
        // An existence check.
        Meta.get("mg:a"),
        Meta.get("mg:nokey")
      ])
      expect(replies.map(normalize)).toEqual([
        meta(
          "VA",
          // l: seconds since the set, 0 unless the server's clock ticked in between.
          { size: 5, flags: 42, ttl: -1, cas, key: "mg:a", hit: false, lastAccess: expect.any(Number), opaque: "op-1" },
          "hello"
        ),
        meta("HD", { hit: true }),
        meta("HD", { ttl: -1 }),
        meta("HD", { ttl: expect.any(Number) }),
        meta("VA", { opaque: "q1" }, "hello"),
        meta("EN", { opaque: "q2" }),
        MN,
        meta("EN", { key: "mg:nokey", opaque: "op-2" }),
        meta("HD"),
        meta("EN")
      ])

      expect(metaOf(replies[0]).flags.lastAccess).toBeLessThanOrEqual(1)
      expect(metaOf(replies[3]).flags.ttl).toBeGreaterThanOrEqual(998)
      expect(metaOf(replies[3]).flags.ttl).toBeLessThanOrEqual(1000)

      // N: a miss creates an empty item and hands out the win; later fetches see Z. R: a TTL under the
      // threshold hands out the win once.
      const vivify = await c.send([
        Meta.get("mg:viv", { value: true, cas: true, vivify: 30, returnKey: true }),
        Meta.get("mg:viv", { value: true, vivify: 30 }),
        Meta.get("mg:a", { value: true, recache: 2000 }),
        Meta.get("mg:a", { value: true, recache: 2000 }),
        Meta.get("mg:a", { value: true, recache: 10 })
      ])
      const created = metaOf(vivify[0])
      expect(created.code).toBe("VA")
      expect(latin1(created.value!)).toBe("")
      expect(created.flags).toMatchObject({ key: "mg:viv", win: true })
      expect(typeof created.flags.cas).toBe("bigint")
      expect(normalize(vivify[1]!)).toEqual(meta("VA", { winSent: true }, ""))
      expect(vivify.slice(2).map(normalize)).toEqual([
        meta("VA", { win: true }, "hello"),
        meta("VA", { winSent: true }, "hello"),
        meta("VA", { winSent: true }, "hello")
      ])
    })
  })

  it("binary keys (b): a 186-byte key with every low byte incl. 0x00, CR, LF and space; the text keyspace", async () => {
    const key186 = Uint8Array.from({ length: 186 }, (_, i) => i)
    const keyHigh = Uint8Array.from({ length: 186 }, (_, i) => 255 - i)
    const asText = bytes("bin:text")
    const replies = await roundTrip(memcached(), [
      Meta.set(key186, bytes("low"), { clientFlags: 1 }),
      Meta.set(keyHigh, bytes("high"), { clientFlags: 2, returnCas: true }),
      Meta.get(key186, { value: true, clientFlags: true, size: true }),
      Meta.get(keyHigh, { value: true, clientFlags: true, opaque: "hi" }),
      Meta.arithmetic(Uint8Array.of(0, 1, 2), { vivify: 0, initial: 41n, returnValue: true }),
      Meta.arithmetic(Uint8Array.of(0, 1, 2), { returnValue: true }),
      Meta.debug(key186),
      Meta.debug(Uint8Array.of(0)),
      Meta.delete(key186),
      Meta.get(key186, { value: true }),
      // A binary key is the same keyspace as a text key: `ms <base64 of bin:text> b` is read by `get bin:text`.
      Meta.set(asText, bytes("via b"), { clientFlags: 9 }),
      Command.get("bin:text"),
      Meta.get("bin:text", { value: true })
    ])
    expect(replies.slice(0, 2).map((r) => metaOf(r).code)).toEqual(["HD", "HD"])
    expect(typeof metaOf(replies[1]).flags.cas).toBe("bigint")
    expect(normalize(replies[2]!)).toEqual(meta("VA", { flags: 1, size: 3 }, "low"))
    expect(normalize(replies[3]!)).toEqual(meta("VA", { flags: 2, opaque: "hi" }, "high"))
    expect(normalize(replies[4]!)).toEqual(meta("VA", {}, "41"))
    expect(normalize(replies[5]!)).toEqual(meta("VA", {}, "42"))
    const debug = replies[6]
    if (debug?._tag !== "MetaDebug") throw new Error("expected MetaDebug")
    // The server prints a binary key in base64.
    expect(debug.key).toBe(Buffer.from(key186).toString("base64"))
    expect(debug.fields).toMatchObject({ exp: "-1", fetch: "yes", size: expect.stringMatching(/^\d+$/) })
    expect(normalize(replies[7]!)).toEqual(meta("EN"))
    expect(replies.slice(8, 11).map(normalize)).toEqual([meta("HD"), meta("EN"), meta("HD")])
    expect(valuesOf(replies[11])).toEqual([value("bin:text", 9, "via b")])
    expect(normalize(replies[12]!)).toEqual(meta("VA", {}, "via b"))
    // k with a binary key is refused: the 1.6.18 server can return such a key raw (see Meta.ts).
    expect(refusal(Meta.get(key186, { returnKey: true }))?.field).toBe("argument")
    expect(refusal(Meta.get(new Uint8Array(187)))?.field).toBe("key")
  })

  it("ms: modes S E A P R, C compare, I invalidate, F, T, q, c, k, O", async () => {
    await withConnection(memcached(), async (c) => {
      const first = await c.send([
        Meta.set("ms:a", bytes("a"), {
          mode: "set",
          ttl: 0,
          clientFlags: 3,
          returnCas: true,
          returnKey: true,
          opaque: "o1"
        }),
        Meta.set("ms:a", bytes("b"), { mode: "add" }),
        Meta.set("ms:new", bytes("n"), { mode: "add", ttl: 1000 }),
        Meta.get("ms:new", { ttl: true }),
        Meta.set("ms:a", bytes(">"), { mode: "append" }),
        Meta.set("ms:a", bytes("<"), { mode: "prepend" }),
        Meta.set("ms:missing", bytes("x"), { mode: "append" }),
        Meta.set("ms:missing", bytes("x"), { mode: "prepend" }),
        Meta.set("ms:missing", bytes("x"), { mode: "replace", opaque: "o2" }),
        Meta.set("ms:new", bytes("N"), { mode: "replace", clientFlags: 8 }),
        Command.gets(["ms:a", "ms:new"])
      ])
      const stored = metaOf(first[0])
      expect(stored.code).toBe("HD")
      expect(stored.flags).toMatchObject({ key: "ms:a", opaque: "o1" })
      expect(typeof stored.flags.cas).toBe("bigint")
      expect(first.slice(1, 10).map(normalize)).toEqual([
        meta("NS"),
        meta("HD"),
        meta("HD", { ttl: expect.any(Number) }),
        meta("HD"),
        meta("HD"),
        meta("NS"),
        meta("NS"),
        meta("NS", { opaque: "o2" }),
        meta("HD")
      ])
      expect(metaOf(first[3]).flags.ttl).toBeGreaterThanOrEqual(998)
      const [a, n] = valuesOf(first[10])
      // append/prepend keep the flags; replace stores the new ones.
      expect(a).toMatchObject({ key: "ms:a", flags: 3, value: "<a>" })
      expect(n).toMatchObject({ key: "ms:new", flags: 8, value: "N" })

      const casA = a!.cas!
      const second = await c.send([
        Meta.set("ms:a", bytes("stale"), { compareCas: casA + 1000n }),
        Meta.set("ms:missing", bytes("x"), { compareCas: 1n }),
        Meta.set("ms:a", bytes("C"), { compareCas: casA, returnCas: true }),
        // Quiet: the success is suppressed (inferred at the next reply), a failure comes back.
        Meta.set("ms:q", bytes("q"), { quiet: true, opaque: "q1" }),
        Meta.set("ms:q", bytes("q"), { mode: "add", quiet: true, opaque: "q2" }),
        Meta.set("ms:q", bytes("Q"), { mode: "replace", quiet: true, opaque: "q3" }),
        Command.sync,
        Command.get(["ms:a", "ms:q"])
      ])
      expect(second.slice(0, 2).map(normalize)).toEqual([meta("EX"), meta("NF")])
      expect(metaOf(second[2]).flags.cas).toBeGreaterThan(casA)
      expect(second.slice(3, 7).map(normalize)).toEqual([
        meta("HD", { opaque: "q1" }),
        meta("NS", { opaque: "q2" }),
        meta("HD", { opaque: "q3" }),
        MN
      ])
      expect(valuesOf(second[7])).toEqual([value("ms:a", 0, "C"), value("ms:q", 0, "Q")])

      // I with a lower C: the item is stored but marked stale (mg shows X and hands out the win).
      const cur = metaOf(second[2]).flags.cas!
      const third = await c.send([
        Meta.set("ms:a", bytes("older"), { compareCas: cur - 1n, invalidate: true }),
        Meta.get("ms:a", { value: true }),
        Meta.get("ms:a", { value: true })
      ])
      expect(third.map(normalize)).toEqual([
        meta("HD"),
        meta("VA", { stale: true, win: true }, "older"),
        meta("VA", { winSent: true, stale: true }, "older")
      ])
    })
  })

  it("md: C, I with T, q, k, O; then the stale/win flow: W and X, then Z", async () => {
    await withConnection(memcached(), async (c) => {
      const [, got] = await c.send([Meta.set("md:a", bytes("a")), Meta.get("md:a", { cas: true })])
      const cas = metaOf(got).flags.cas!
      const replies = await c.send([
        Meta.delete("md:a", { compareCas: cas + 1n, returnKey: true, opaque: "x1" }),
        Meta.delete("md:missing", { returnKey: true, opaque: "x2" }),
        Meta.delete("md:a", { compareCas: cas }),
        Meta.get("md:a"),
        Meta.set("md:q", bytes("q")),
        Meta.delete("md:q", { quiet: true, opaque: "q1" }),
        Meta.delete("md:q", { quiet: true, opaque: "q2" }),
        Command.sync,
        // The stale/win flow: invalidate with a new TTL, then the first fetch wins, later ones see Z.
        Meta.set("md:w", bytes("w")),
        Meta.delete("md:w", { invalidate: true, ttl: 30 }),
        Meta.get("md:w", { value: true, cas: true }),
        Meta.get("md:w", { value: true, ttl: true }),
        Meta.get("md:w", { value: true })
      ])
      expect(replies.slice(0, 10).map(normalize)).toEqual([
        meta("EX", { key: "md:a", opaque: "x1" }),
        meta("NF", { key: "md:missing", opaque: "x2" }),
        meta("HD"),
        meta("EN"),
        meta("HD"),
        meta("HD", { opaque: "q1" }),
        meta("NF", { opaque: "q2" }),
        MN,
        meta("HD"),
        meta("HD")
      ])
      const won = metaOf(replies[10])
      expect(normalize(won)).toEqual(meta("VA", { cas: won.flags.cas, stale: true, win: true }, "w"))
      expect(normalize(replies[11]!)).toEqual(meta("VA", { ttl: expect.any(Number), winSent: true, stale: true }, "w"))
      expect(metaOf(replies[11]).flags.ttl).toBeGreaterThanOrEqual(28)
      expect(metaOf(replies[11]).flags.ttl).toBeLessThanOrEqual(30)
      expect(normalize(replies[12]!)).toEqual(meta("VA", { winSent: true, stale: true }, "w"))
      expect(refusal(Meta.delete("md:a", { ttl: 30 }))?.field).toBe("exptime")
    })
  })

  it("ma: N, J, D, T, M incr/decr, q, t, c, v, k, O; u64 wrap; errors", async () => {
    await withConnection(memcached(), async (c) => {
      const replies = await c.send([
        Meta.arithmetic("ma:missing"),
        Meta.arithmetic("ma:missing", { quiet: true, opaque: "q0" }),
        Command.sync,
        Meta.arithmetic("ma:c", { vivify: 0, initial: 10n, returnValue: true }),
        Meta.arithmetic("ma:c", { returnValue: true }),
        Meta.arithmetic("ma:c", { mode: "decr", delta: 100n, returnValue: true }),
        Meta.arithmetic("ma:c", { mode: "incr", delta: 7n }),
        Meta.arithmetic("ma:c", {
          ttl: 1000,
          returnTtl: true,
          returnCas: true,
          returnValue: true,
          returnKey: true,
          opaque: "o1"
        }),
        Meta.arithmetic("ma:c", { quiet: true, opaque: "q1", returnValue: true }),
        Meta.arithmetic("ma:c", { quiet: true, opaque: "q2", mode: "decr" }),
        Command.sync,
        Meta.arithmetic("ma:c", { returnValue: true }),
        Meta.arithmetic("ma:max", { vivify: 100, initial: 18446744073709551615n, returnValue: true, returnTtl: true }),
        Meta.arithmetic("ma:max", { returnValue: true }),
        Meta.set("ma:text", bytes("abc")),
        Meta.arithmetic("ma:text", { returnValue: true }),
        Meta.arithmetic("ma:text", { quiet: true, opaque: "q3" }),
        Command.sync
      ])
      expect(replies.slice(0, 7).map(normalize)).toEqual([
        meta("NF"),
        meta("NF", { opaque: "q0" }),
        MN,
        meta("VA", {}, "10"),
        meta("VA", {}, "11"),
        meta("VA", {}, "0"),
        meta("HD")
      ])
      const full = metaOf(replies[7])
      expect(normalize(full)).toEqual(
        meta("VA", { ttl: expect.any(Number), cas: full.flags.cas, key: "ma:c", opaque: "o1" }, "8")
      )
      expect(full.flags.ttl).toBeGreaterThanOrEqual(998)
      expect(typeof full.flags.cas).toBe("bigint")
      expect(replies.slice(8).map(normalize)).toEqual([
        meta("HD", { opaque: "q1" }),
        meta("HD", { opaque: "q2" }),
        MN,
        meta("VA", {}, "9"),
        meta("VA", { ttl: expect.any(Number) }, "18446744073709551615"),
        meta("VA", {}, "0"),
        meta("HD"),
        { _tag: "ClientError", text: "cannot increment or decrement non-numeric value" },
        // Meta errors are returned even with q: the error completes the quiet request itself.
        { _tag: "ClientError", text: "cannot increment or decrement non-numeric value" },
        MN
      ])
      // C on ma: a wrong CAS gives EX.
      const cas = full.flags.cas!
      const guarded = await c.send([
        Meta.arithmetic("ma:c", { compareCas: cas + 999n }),
        Meta.arithmetic("ma:c", { returnCas: true }),
        Meta.arithmetic("ma:c", { compareCas: 1n })
      ])
      expect(metaOf(guarded[0]).code).toBe("EX")
      expect(metaOf(guarded[2]).code).toBe("EX")
      const current = metaOf(guarded[1]).flags.cas!
      const ok = await c.send([Meta.arithmetic("ma:c", { compareCas: current, returnValue: true })])
      expect(normalize(ok[0]!)).toEqual(meta("VA", {}, "11"))
    })
  })

  it("me: the debug line of a hit, EN on a miss", async () => {
    const replies = await roundTrip(memcached(), [
      Meta.set("me:a", bytes("abc"), { ttl: 1000 }),
      Meta.debug("me:a"),
      Meta.debug("me:missing")
    ])
    const debug = replies[1]
    if (debug?._tag !== "MetaDebug") throw new Error(`expected MetaDebug, got ${JSON.stringify(debug)}`)
    expect(debug.key).toBe("me:a")
    expect(Object.keys(debug.fields).sort()).toEqual(["cas", "cls", "exp", "fetch", "la", "size"])
    expect(debug.fields.fetch).toBe("no")
    expect(normalize(replies[2]!)).toEqual(meta("EN"))
  })

  it("mn answers MN; error lines of earlier unanswered commands reach onQuietError before it", async () => {
    await withConnection(memcached(), async (c) => {
      const replies = await c.send([Command.sync, Command.sync])
      expect(replies.map(normalize)).toEqual([MN, MN])
      expect(c.quietErrors).toEqual([])
      // Lines Command would refuse to encode, written raw so the server produces unsolicited error lines: with
      // only the Sync pending, the decoder hands them to onQuietError and MN still completes the Sync.
      c.socket.write("incr\r\ndelete a 5\r\nset a 0 0 1 noreply\r\nxy\r\n")
      const synced = await c.send([Command.sync, Command.version])
      expect(normalize(synced[0]!)).toEqual(MN)
      expect(synced[1]?._tag).toBe("Version")
      expect(c.quietErrors).toEqual([
        { _tag: "Error", text: "" },
        { _tag: "ClientError", text: "bad command line format.  Usage: delete <key> [noreply]" },
        // The bad data chunk's CLIENT_ERROR is suppressed by noreply; the leftover "\n" is read as a command.
        { _tag: "Error", text: "" }
      ])
    })
  })

  it("a pipelined batch's real reply stream decodes identically split in every way", async () => {
    await withConnection(memcached(), async (c) => {
      const tricky = bytes("x\r\nEND\r\nVALUE x 0 1\r\nx\r\nHD\r\n")
      const batch: Array<Command.Command> = [
        Command.set("sp:a", tricky, { flags: 1 }),
        Command.set("sp:b", randomBytes(3000, 3)),
        Command.add("sp:a", bytes("x")),
        Command.get(["sp:a", "sp:nokey", "sp:b", "sp:a"]),
        Command.gets("sp:a"),
        Command.gat(100, ["sp:b"]),
        Command.gats(0, ["sp:nokey"]),
        Command.set("sp:n", bytes("41")),
        Command.incr("sp:n", 1n),
        Command.decr("sp:n", 50n),
        Command.incr("sp:a", 1n),
        Command.touch("sp:n", 10),
        Command.delete("sp:n"),
        Command.delete("sp:n"),
        Command.stats(["settings"]),
        Command.stats(["detail", "dump"]),
        Command.stats(["reset"]),
        Command.version,
        Command.verbosity(0),
        Command.cacheMemlimit(2),
        Command.shutdown(),
        Meta.set("sp:m", tricky, { clientFlags: 9, returnCas: true, returnKey: true, opaque: "a1" }),
        Meta.get("sp:m", { value: true, size: true, clientFlags: true, ttl: true, returnKey: true, opaque: "a2" }),
        Meta.get("sp:nokey", { value: true, quiet: true, opaque: "a3" }),
        Meta.get("sp:m", { value: true, quiet: true, opaque: "a4" }),
        Meta.delete("sp:nokey", { quiet: true, opaque: "a5" }),
        Command.set("sp:quiet", bytes("q"), { noreply: true }),
        Command.sync,
        Meta.arithmetic("sp:c", { vivify: 0, initial: 5n, returnValue: true, returnTtl: true }),
        Meta.debug("sp:m"),
        Meta.debug("sp:nokey"),
        Meta.get(Uint8Array.of(0, 13, 10, 32), { value: true, vivify: 30 }),
        Command.sync
      ]
      const live = await c.send(batch)
      expect(live).toHaveLength(batch.length - 1) // the noreply set has no reply
      const stream = concat(c.received)
      const expected = live.map(normalize)

      const whole = redecode(c.expected, [stream])
      const oneByte = redecode(c.expected, byteAtATime(stream))
      for (const outcome of [whole, oneByte]) {
        expect(outcome.errors).toEqual([])
        expect(outcome.replies.map(normalize)).toEqual(expected)
        expect(outcome.decoder.pending).toBe(0)
        expect(outcome.decoder.buffered).toBe(0)
      }
      for (let seed = 1; seed <= 20; seed++) {
        const outcome = redecode(c.expected, randomCuts(stream, seed))
        expect(outcome.errors).toEqual([])
        expect(outcome.replies.map(normalize)).toEqual(expected)
      }
      // Every cut point into two pieces.
      const expectedJson = JSON.stringify(expected, (_, v) => (typeof v === "bigint" ? `${v}n` : v))
      for (let cut = 0; cut <= stream.length; cut++) {
        const outcome = redecode(c.expected, [stream.subarray(0, cut), stream.subarray(cut)])
        const json = JSON.stringify(outcome.replies.map(normalize), (_, v) => (typeof v === "bigint" ? `${v}n` : v))
        if (json !== expectedJson || outcome.errors.length > 0) {
          expect({ cut, errors: outcome.errors, replies: outcome.replies.map(normalize) }).toEqual({
            cut,
            errors: [],
            replies: expected
          })
        }
      }
    })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// servers started with special settings
// ---------------------------------------------------------------------------------------------------------------

describe("RoundTrip: a server with a 1 KiB item size (-I 1k)", () => {
  const small = useMemcached({ args: ["-I", "1k", "-o", "slab_chunk_max=1024"] })

  it("too large: SERVER_ERROR, the stream stays in step, and set drops the old value", async () => {
    const replies = await roundTrip(small(), [
      Command.set("k", new Uint8Array(964).fill(0x61)),
      Command.get("k"),
      Command.set("k", new Uint8Array(965).fill(0x62)),
      Command.get("k"),
      Meta.set("k", new Uint8Array(965)),
      Meta.set("k", new Uint8Array(965), { quiet: true, opaque: "big" }),
      Command.set("k", new Uint8Array(965), { noreply: true }), // suppressed by the server
      Command.sync,
      Command.version
    ])
    const tooLarge = { _tag: "ServerError", text: "object too large for cache" }
    expect(replies[0]).toBe(Reply.replies.Stored)
    expect(valuesOf(replies[1])[0]?.value).toHaveLength(964)
    expect(replies[2]).toEqual(tooLarge)
    expect(replies[3]).toEqual({ _tag: "Values", values: [] })
    expect(replies[4]).toEqual(tooLarge)
    expect(replies[5]).toEqual(tooLarge)
    expect(normalize(replies[6]!)).toEqual(MN)
    expect(replies[7]?._tag).toBe("Version")
  })
})

describe("RoundTrip: a server with a 2 MiB item size (-I 2m)", () => {
  const large = useMemcached({ args: ["-I", "2m"] })
  const limits: Validation.Limits = { itemSizeMax: 2 * 1048576 }
  const maxValueLength = 2 * 1048576

  it("1 MiB of random bytes round-trips exactly through set/get, gets, ms/mg", async () => {
    const data = randomBytes(1048576, 2024)
    const replies = await roundTrip(
      large(),
      [
        Command.set("big", data, { flags: 77 }),
        Command.get("big"),
        Meta.set("big:ms", data, { clientFlags: 1 }),
        Meta.get("big:ms", { value: true, size: true }),
        Command.gets(["big", "big:ms"])
      ],
      { limits, maxValueLength }
    )
    expect(replies[0]).toBe(Reply.replies.Stored)
    const [got] = valuesOf(replies[1])
    expect(got?.flags).toBe(77)
    expect(got?.value.length).toBe(data.length)
    expect(got?.value === latin1(data)).toBe(true)
    expect(metaOf(replies[2]).code).toBe("HD")
    const mg = metaOf(replies[3])
    expect(mg.flags.size).toBe(data.length)
    expect(Buffer.compare(Buffer.from(mg.value!), Buffer.from(data))).toBe(0)
    const both = valuesOf(replies[4])
    expect(both.map((v) => v.value === latin1(data))).toEqual([true, true])
  })
})

describe("RoundTrip: flush_all", () => {
  const flushable = useMemcached()

  it("flush_all, with noreply, and with a delay that fires later", async () => {
    await withConnection(flushable(), async (c) => {
      const now = await c.send([
        Command.set("f:a", bytes("a")),
        Command.flushAll(),
        Command.get("f:a"),
        Command.set("f:b", bytes("b")),
        Command.flushAll({ noreply: true }),
        Command.sync,
        Command.get("f:b")
      ])
      expect(now.map(normalize)).toEqual([
        Reply.replies.Stored,
        Reply.replies.Ok,
        { _tag: "Values", values: [] },
        Reply.replies.Stored,
        MN,
        { _tag: "Values", values: [] }
      ])
      // A plain flush_all leaves no window in which new writes vanish.
      const after = await c.send([Command.set("f:c", bytes("c")), Command.get("f:c")])
      expect(valuesOf(after[1])).toEqual([value("f:c", 0, "c")])

      // flush_all 3 fires within about 1-2 s (protocol.md §4.5), not at once.
      const delayed = await c.send([Command.flushAll({ delay: 3 }), Command.get("f:c")])
      expect(delayed[0]).toBe(Reply.replies.Ok)
      expect(valuesOf(delayed[1])).toEqual([value("f:c", 0, "c")])
      await waitUntil(async () => valuesOf((await c.send([Command.get("f:c")]))[0]).length === 0, "the delayed flush")
    })
  })
})

describe("RoundTrip: shutdown on a server started with -A", () => {
  const stoppable = useMemcached({ args: ["-A"] })

  it("shutdown: no reply, the connection closes and the process exits", async () => {
    const server = stoppable()
    const connection = await Connection.open(server)
    // Separate writes: replies still unsent when shutdown arrives may be dropped with the connection.
    expect(tags(await connection.send([Command.version]))).toEqual(["Version"])
    const replies = await connection.send([Command.shutdown()])
    await connection.closed
    expect(replies).toEqual([])
    expect(connection.decoder.pending).toBe(1) // the Shutdown expectation: the server closed instead of answering
    expect(connection.decoder.failed).toBeUndefined()
    await waitUntil(() => !server.running, "memcached to exit after shutdown")
  })

  it("shutdown graceful: the same, through SIGUSR1", async () => {
    const server = await startMemcached({ args: ["-A"] })
    try {
      const connection = await Connection.open(server)
      const replies = await connection.send([Command.shutdown({ graceful: true })])
      await connection.closed
      expect(replies).toEqual([])
      expect(connection.decoder.pending).toBe(1)
      await waitUntil(() => !server.running, "memcached to exit after shutdown graceful")
    } finally {
      await server.stop()
    }
  })
})
