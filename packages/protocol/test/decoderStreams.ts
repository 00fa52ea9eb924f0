/**
 * Generators of valid reply streams for the decoder's property and fuzz tests: each stream is the bytes a
 * server could send, the expectations that were queued for it, and the replies the decoder must produce.
 */
import { Decoder, type Errors, Reply } from "@effect-memcache/protocol"
import * as fc from "fast-check"

/** A reply stream with what the decoder must make of it. */
export interface Stream {
  readonly expectations: ReadonlyArray<Reply.Expectation>
  readonly bytes: Uint8Array
  readonly replies: ReadonlyArray<Reply.Reply>
  readonly quietErrors: ReadonlyArray<Reply.Reply>
}

interface Piece {
  readonly expectations: ReadonlyArray<Reply.Expectation>
  readonly parts: ReadonlyArray<Uint8Array>
  readonly replies: ReadonlyArray<Reply.Reply>
  readonly quietErrors: ReadonlyArray<Reply.Reply>
}

const utf8 = new TextEncoder()

/** Text to bytes, one byte per char (for ASCII and binary strings). */
export const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))

/** Text to UTF-8 bytes. */
export const bytes = (text: string): Uint8Array => utf8.encode(text)

/** Joins byte arrays. */
export const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** What a decoder run produced. */
export interface Outcome {
  readonly replies: Array<Reply.Reply>
  readonly quietErrors: Array<Reply.Reply>
  readonly errors: Array<Errors.ProtocolError>
  readonly decoder: Decoder.Decoder
  /** The largest `buffered` seen after a feed. */
  readonly maxBuffered: number
}

/** Queues `expectations`, feeds `chunks` one by one, and collects everything the decoder reports. */
export const decodeChunks = (
  expectations: ReadonlyArray<Reply.Expectation>,
  chunks: ReadonlyArray<Uint8Array>,
  options?: { readonly maxLineLength?: number; readonly maxValueLength?: number }
): Outcome => {
  const replies: Array<Reply.Reply> = []
  const quietErrors: Array<Reply.Reply> = []
  const errors: Array<Errors.ProtocolError> = []
  const decoder = new Decoder.Decoder({
    onReply: (reply) => replies.push(reply),
    onError: (error) => errors.push(error),
    onQuietError: (reply) => quietErrors.push(reply),
    ...options
  })
  for (const expectation of expectations) decoder.expect(expectation)
  let maxBuffered = 0
  for (const chunk of chunks) {
    decoder.feed(chunk)
    maxBuffered = Math.max(maxBuffered, decoder.buffered)
  }
  return { replies, quietErrors, errors, decoder, maxBuffered }
}

/** Cuts `data` at the given offsets (any order, duplicates allowed). */
export const splitAt = (data: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let from = 0
  for (const point of points) {
    chunks.push(data.slice(from, point))
    from = point
  }
  chunks.push(data.slice(from))
  return chunks
}

/** One-byte chunks. */
export const bytewise = (data: Uint8Array): Array<Uint8Array> => Array.from(data, (_, i) => data.slice(i, i + 1))

const line = (text: string): Uint8Array => bytes(`${text}\r\n`)

const piece = (expectation: Reply.Expectation, parts: ReadonlyArray<Uint8Array>, reply: Reply.Reply): Piece => ({
  expectations: [expectation],
  parts,
  replies: [reply],
  quietErrors: []
})

const text = fc.stringMatching(/^[a-zA-Z][ -~]{0,24}$/)

/** An error line and the reply it decodes to. */
export const errorLine: fc.Arbitrary<{ readonly line: string; readonly reply: Reply.Reply }> = fc.oneof(
  fc.constant({ line: "ERROR", reply: { _tag: "Error", text: "" } as Reply.Reply }),
  text.map((t) => ({ line: `ERROR ${t}`, reply: { _tag: "Error", text: t } as Reply.Reply })),
  fc.constant({
    line: "ERROR: shutdown not enabled",
    reply: { _tag: "Error", text: "shutdown not enabled" } as Reply.Reply
  }),
  text.map((t) => ({ line: `CLIENT_ERROR ${t}`, reply: { _tag: "ClientError", text: t } as Reply.Reply })),
  text.map((t) => ({ line: `SERVER_ERROR ${t}`, reply: { _tag: "ServerError", text: t } as Reply.Reply }))
)

const keyPool = ["a", "b", "user:1", "ключ", "é", "k".repeat(250), "\u{1F600}x"]
const tricky = [latin1("\r\nEND\r\n"), latin1("VALUE x 0 1\r\n"), latin1("\r\n"), latin1("STORED\r\n")]
const valueBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(...tricky),
  fc.constant(new Uint8Array(0))
)
const u64 = fc.bigInt({ min: 0n, max: 18446744073709551615n })
const u32 = fc.integer({ min: 0, max: 4294967295 })

const retrieval: fc.Arbitrary<Piece> = fc
  .record({
    keys: fc.array(fc.constantFrom(...keyPool), { minLength: 1, maxLength: 5 }),
    cas: fc.boolean(),
    hits: fc.array(fc.option(fc.record({ flags: u32, value: valueBytes, cas: u64 }), { nil: undefined }), {
      minLength: 5,
      maxLength: 5
    })
  })
  .map(({ keys, cas, hits }) => {
    const parts: Array<Uint8Array> = []
    const values: Array<Reply.Value> = []
    keys.forEach((key, i) => {
      const hit = hits[i]
      if (hit === undefined) return
      parts.push(
        line(`VALUE ${key} ${hit.flags} ${hit.value.length}${cas ? ` ${hit.cas}` : ""}`),
        hit.value,
        latin1("\r\n")
      )
      values.push({ key, flags: hit.flags, value: hit.value, cas: cas ? hit.cas : undefined })
    })
    parts.push(line("END"))
    return piece(Reply.retrieval(keys, cas), parts, { _tag: "Values", values })
  })

const fixed = (expectation: Reply.Expectation, words: ReadonlyArray<readonly [string, Reply.Reply]>) =>
  fc.constantFrom(...words).map(([word, reply]) => piece(expectation, [line(word)], reply))

const storage = fixed(Reply.expect.Storage, [
  ["STORED", Reply.replies.Stored],
  ["NOT_STORED", Reply.replies.NotStored],
  ["EXISTS", Reply.replies.Exists],
  ["NOT_FOUND", Reply.replies.NotFound]
])
const deletion = fixed(Reply.expect.Delete, [
  ["DELETED", Reply.replies.Deleted],
  ["NOT_FOUND", Reply.replies.NotFound]
])
const touch = fixed(Reply.expect.Touch, [
  ["TOUCHED", Reply.replies.Touched],
  ["NOT_FOUND", Reply.replies.NotFound]
])
const arithmetic = fc.oneof(
  u64.map((value) => piece(Reply.expect.Arithmetic, [line(`${value}`)], { _tag: "Numeric", value })),
  fc.constant(piece(Reply.expect.Arithmetic, [line("NOT_FOUND")], Reply.replies.NotFound))
)
const ok = fc.oneof(
  fc.constant(piece(Reply.expect.Ok, [line("OK")], Reply.replies.Ok)),
  fc
    .record({ word: fc.constantFrom("MEMLIMIT_TOO_SMALL", "BUSY", "NOSPARE", "BADCLASS"), text: text })
    .map(({ word, text }) => piece(Reply.expect.Ok, [line(`${word} ${text}`)], { _tag: "Status", word, text }))
)
const stats = fc.oneof(
  fc
    .record({
      stats: fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,12}$/), fc.stringMatching(/^[!-~][ -~]{0,20}$|^$/)), {
        maxLength: 6
      }),
      lines: fc.array(fc.stringMatching(/^(ITEM|PREFIX) [!-~]{1,10}( [ -~]{0,10})?$/), { maxLength: 3 })
    })
    .map(({ stats, lines }) =>
      piece(Reply.expect.Stats, [...stats.map(([n, v]) => line(`STAT ${n} ${v}`)), ...lines.map(line), line("END")], {
        _tag: "Stats",
        stats,
        lines
      })
    ),
  fc.constant(piece(Reply.expect.Stats, [line("OK")], Reply.replies.Ok)),
  fc.constant(piece(Reply.expect.Stats, [line("RESET")], Reply.replies.Reset))
)
const version = fc
  .stringMatching(/^[!-~][ -~]{0,30}$/)
  .map((v) => piece(Reply.expect.Version, [line(`VERSION ${v}`)], { _tag: "Version", version: v }))

const opaque = fc.stringMatching(/^[!-~]{1,31}$/)

/** Meta flags as sent on the wire and as parsed. */
const metaFlags: fc.Arbitrary<{ readonly tokens: ReadonlyArray<string>; readonly flags: Reply.MetaFlags }> = fc
  .record(
    {
      cas: u64,
      flags: u32,
      ttl: fc.integer({ min: -1, max: 3_000_000 }),
      size: fc.nat(),
      hit: fc.boolean(),
      lastAccess: fc.nat(),
      key: fc.oneof(
        fc.stringMatching(/^[!-~]{1,20}$/).map((k) => ({ k, b64: false })),
        fc.uint8Array({ minLength: 1, maxLength: 30 }).map((raw) => ({ k: String.fromCharCode(...raw), b64: true }))
      ),
      win: fc.constant(true),
      stale: fc.constant(true),
      winSent: fc.constant(true)
    },
    { requiredKeys: [] }
  )
  .map((f) => {
    const tokens: Array<string> = []
    const flags: Record<string, unknown> = {}
    if (f.key !== undefined) {
      tokens.push(`k${f.key.b64 ? btoa(f.key.k) : f.key.k}`)
      flags.key = f.key.k
      if (f.key.b64) flags.base64Key = true
    }
    if (f.cas !== undefined) {
      tokens.push(`c${f.cas}`)
      flags.cas = f.cas
    }
    if (f.flags !== undefined) {
      tokens.push(`f${f.flags}`)
      flags.flags = f.flags
    }
    if (f.ttl !== undefined) {
      tokens.push(`t${f.ttl}`)
      flags.ttl = f.ttl
    }
    if (f.size !== undefined) {
      tokens.push(`s${f.size}`)
      flags.size = f.size
    }
    if (f.hit !== undefined) {
      tokens.push(`h${f.hit ? 1 : 0}`)
      flags.hit = f.hit
    }
    if (f.lastAccess !== undefined) {
      tokens.push(`l${f.lastAccess}`)
      flags.lastAccess = f.lastAccess
    }
    if (f.key?.b64) tokens.push("b")
    if (f.winSent !== undefined) {
      tokens.push("Z")
      flags.winSent = true
    }
    if (f.stale !== undefined) {
      tokens.push("X")
      flags.stale = true
    }
    if (f.win !== undefined) {
      tokens.push("W")
      flags.win = true
    }
    return { tokens, flags: flags as Reply.MetaFlags }
  })

type MetaCode = "HD" | "VA" | "EN" | "NF" | "NS" | "EX"

/** The generated parts of a meta reply, rendered once the request's opaque is known. */
const metaAnswer = (codes: ReadonlyArray<MetaCode>) =>
  fc.record({ code: fc.constantFrom(...codes), f: metaFlags, value: valueBytes })

/** A meta reply line (plus its VA data) for a request that sent `op`, and its decoded reply. */
const renderMeta = (
  {
    code,
    f,
    value
  }: {
    readonly code: MetaCode
    readonly f: { readonly tokens: ReadonlyArray<string>; readonly flags: Reply.MetaFlags }
    readonly value: Uint8Array
  },
  op: string | undefined
) => {
  const tokens = op === undefined ? f.tokens : [...f.tokens, `O${op}`]
  const flags: Reply.MetaFlags = op === undefined ? f.flags : { ...f.flags, opaque: op }
  const head = code === "VA" ? `VA ${value.length}` : code
  const parts =
    code === "VA" ? [line([head, ...tokens].join(" ")), value, latin1("\r\n")] : [line([head, ...tokens].join(" "))]
  const reply: Reply.Reply = { _tag: "Meta", code, flags, value: code === "VA" ? value : undefined }
  return { parts, reply }
}

const meta: fc.Arbitrary<Piece> = fc.option(opaque, { nil: undefined }).chain((op) =>
  metaAnswer(["HD", "VA", "EN", "NF", "NS", "EX"]).map((answer) => {
    const { parts, reply } = renderMeta(answer, op)
    return piece(
      op === undefined ? Reply.expect.Meta : { _tag: "Meta", opaque: op, quiet: false, suppressed: "HD" },
      parts,
      reply
    )
  })
)

const metaDebug = fc.oneof(
  fc.constant(piece(Reply.expect.MetaDebug, [line("EN")], { _tag: "Meta", code: "EN", flags: {}, value: undefined })),
  fc
    .record({
      key: fc.stringMatching(/^[!-~]{1,20}$/),
      fields: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.stringMatching(/^[!-~]{0,8}$/), { maxKeys: 5 })
    })
    .map(({ key, fields }) => {
      const tokens = Object.entries(fields).map(([k, v]) => `${k}=${v}`)
      return piece(Reply.expect.MetaDebug, [line(["ME", key, ...tokens].join(" "))], {
        _tag: "MetaDebug",
        key,
        fields
      })
    })
)

const MN: Reply.Reply = { _tag: "Meta", code: "MN", flags: {}, value: undefined }

/** Quiet meta requests (each answered, suppressed or failed), then `mn` with error lines of earlier noreply commands. */
const quietBatch: fc.Arbitrary<Piece> = fc
  .record({
    requests: fc.array(
      fc.record({
        suppressed: fc.constantFrom("EN" as const, "HD" as const),
        outcome: fc.constantFrom("suppressed", "answered", "error")
      }),
      { maxLength: 4 }
    ),
    answers: fc.array(metaAnswer(["HD", "VA", "NF", "NS", "EX"]), { minLength: 4, maxLength: 4 }),
    errors: fc.array(errorLine, { minLength: 4, maxLength: 4 }),
    quietErrors: fc.array(errorLine, { maxLength: 3 })
  })
  .map(({ requests, answers, errors, quietErrors }) => {
    const expectations: Array<Reply.Expectation> = []
    const parts: Array<Uint8Array> = []
    const replies: Array<Reply.Reply> = []
    // An error line has no opaque, so the decoder gives it to the oldest unresolved quiet request: only
    // generate errors where that is the request that failed (no suppressed request still waiting before it).
    let unresolved = false
    requests.forEach((request, i) => {
      const op = `q${i}`
      const outcome = request.outcome === "error" && unresolved ? "answered" : request.outcome
      expectations.push({ _tag: "Meta", opaque: op, quiet: true, suppressed: request.suppressed })
      if (outcome === "suppressed") {
        unresolved = true
        replies.push({ _tag: "Meta", code: request.suppressed, flags: { opaque: op }, value: undefined })
      } else if (outcome === "error") {
        parts.push(line(errors[i]!.line))
        replies.push(errors[i]!.reply)
      } else {
        unresolved = false
        const answer = renderMeta(answers[i]!, op)
        parts.push(...answer.parts)
        replies.push(answer.reply)
      }
    })
    const trailing = unresolved ? [] : quietErrors
    expectations.push(Reply.expect.Sync)
    for (const e of trailing) parts.push(line(e.line))
    parts.push(line("MN"))
    replies.push(MN)
    return { expectations, parts, replies, quietErrors: trailing.map((e) => e.reply) }
  })

/** Any expectation answered by an error line. */
const failed: fc.Arbitrary<Piece> = fc
  .record({
    expectation: fc.constantFrom<Reply.Expectation>(
      Reply.retrieval(["a"], false),
      Reply.expect.Storage,
      Reply.expect.Delete,
      Reply.expect.Touch,
      Reply.expect.Arithmetic,
      Reply.expect.Ok,
      Reply.expect.Stats,
      Reply.expect.Version,
      Reply.expect.Meta,
      { _tag: "Meta", opaque: "x", quiet: false, suppressed: "HD" },
      Reply.expect.MetaDebug,
      Reply.expect.Shutdown
    ),
    error: errorLine
  })
  .map(({ expectation, error }) => piece(expectation, [line(error.line)], error.reply))

/** One request/reply exchange (or a quiet batch). */
export const exchange: fc.Arbitrary<Piece> = fc.oneof(
  retrieval,
  storage,
  deletion,
  touch,
  arithmetic,
  ok,
  stats,
  version,
  meta,
  metaDebug,
  quietBatch,
  failed
)

/** A valid stream of several exchanges. */
export const stream: fc.Arbitrary<Stream> = fc.array(exchange, { minLength: 1, maxLength: 12 }).map((pieces) => ({
  expectations: pieces.flatMap((p) => p.expectations),
  bytes: concat(pieces.flatMap((p) => p.parts)),
  replies: pieces.flatMap((p) => p.replies),
  quietErrors: pieces.flatMap((p) => p.quietErrors)
}))

/** Every expectation kind (for tests that need one of each). */
export const everyExpectation: ReadonlyArray<Reply.Expectation> = [
  Reply.retrieval(["a", "b"], false),
  Reply.retrieval(["a"], true),
  Reply.expect.Storage,
  Reply.expect.Delete,
  Reply.expect.Touch,
  Reply.expect.Arithmetic,
  Reply.expect.Ok,
  Reply.expect.Stats,
  Reply.expect.Version,
  Reply.expect.Meta,
  { _tag: "Meta", opaque: "op", quiet: false, suppressed: "HD" },
  { _tag: "Meta", opaque: "qq", quiet: true, suppressed: "EN" },
  Reply.expect.MetaDebug,
  Reply.expect.Sync,
  Reply.expect.Shutdown
]
