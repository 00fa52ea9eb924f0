/**
 * Throughput of the protocol layer alone (no sockets, no server): the coalescing `Encoder.Encoder` and the
 * incremental `Decoder`, on pre-built inputs. Every case is warmed up, then timed several times; the median and
 * the spread (min..max) are printed, so a single noisy run does not decide the figure.
 *
 * Run: `npm run bench:protocol` (builds, then `node bench/dist/protocol.js`). About 75 s. The figures are only
 * comparable on an otherwise idle machine: other processes show up as a wide spread.
 *
 * @since 0.1.0
 */
import * as os from "node:os"
import { Command, Decoder, Encoder, MetaForm, Reply, Validation } from "@effect-memcache/protocol"

const WARMUP_MILLIS = 800
const RUNS = 7
const RUN_MILLIS = 500
const CHUNK = 64 * 1024

interface Work {
  /** Units done (commands encoded, replies decoded). */
  readonly units: number
  /** Bytes produced or consumed. */
  readonly bytes: number
}

interface Rates {
  readonly unitsPerSecond: ReadonlyArray<number>
  readonly bytesPerSecond: ReadonlyArray<number>
}

// One timed run: repeat `iteration` until RUN_MILLIS have passed, so every sample spans many iterations.
const timeRun = (iteration: () => Work, millis: number): { units: number; bytes: number; seconds: number } => {
  let units = 0
  let bytes = 0
  const start = performance.now()
  let now = start
  do {
    const work = iteration()
    units += work.units
    bytes += work.bytes
    now = performance.now()
  } while (now - start < millis)
  return { units, bytes, seconds: (now - start) / 1000 }
}

const measure = (iteration: () => Work): Rates => {
  timeRun(iteration, WARMUP_MILLIS)
  const unitsPerSecond: Array<number> = []
  const bytesPerSecond: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    const run = timeRun(iteration, RUN_MILLIS)
    unitsPerSecond.push(run.units / run.seconds)
    bytesPerSecond.push(run.bytes / run.seconds)
  }
  return { unitsPerSecond, bytesPerSecond }
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const human = (n: number): string =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} G`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(2)} M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} k`
        : n.toFixed(0)

// "median (min..max, ±x%)": the half range relative to the median.
const summary = (xs: ReadonlyArray<number>, unit: string, scale = 1): string => {
  const m = median(xs) / scale
  const lo = Math.min(...xs) / scale
  const hi = Math.max(...xs) / scale
  const spread = m === 0 ? 0 : ((hi - lo) / 2 / m) * 100
  const format = scale === 1 ? human : (n: number) => n.toFixed(n >= 100 ? 0 : 1)
  return `${format(m)}${unit}  (${format(lo)}..${format(hi)}, ±${spread.toFixed(1)}%)`
}

const report = (name: string, rates: Rates, unit: string | undefined): void => {
  const perSecond = unit === undefined ? "" : summary(rates.unitsPerSecond, `${unit}/s`)
  const throughput = summary(rates.bytesPerSecond, " MB/s", 1e6)
  console.log(`  ${name.padEnd(50)} ${perSecond.padEnd(42)} ${throughput}`)
}

const utf8 = new TextEncoder()

const filled = (length: number, seed: number): Uint8Array => {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const part of parts) length += part.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

const chunksOf = (stream: Uint8Array, size: number): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < stream.byteLength; i += size) chunks.push(stream.subarray(i, i + size))
  return chunks
}

// ---------------------------------------------------------------------------------------------------------------
// encoder
// ---------------------------------------------------------------------------------------------------------------

const PER_TAKE = 1000

// Sink for results, so no work can be optimised away.
let checksum = 0

const validated = <C extends Command.Command>(command: C): Validation.Validated<C> => {
  const result = Validation.validate(command)
  if (Validation.isInvalid(result)) throw result
  return result
}

// Appends commands validated beforehand: the encoder alone.
const encoderCase = (commands: ReadonlyArray<Command.Command>) => {
  const checked = commands.map(validated)
  const encoder = new Encoder.Encoder()
  return (): Work => {
    for (let i = 0; i < checked.length; i++) encoder.append(checked[i]!)
    return taken(encoder, checked.length)
  }
}

// The client's path: each command validated when the call is made, then appended to the write buffer.
const validateEncoderCase = (commands: ReadonlyArray<Command.Command>) => {
  const encoder = new Encoder.Encoder()
  return (): Work => {
    for (let i = 0; i < commands.length; i++) encoder.append(validated(commands[i]!))
    return taken(encoder, commands.length)
  }
}

// The same in the meta form (`Encoder.appendMeta`), each command with opaques of its own.
const metaEncoderCase = (commands: ReadonlyArray<Command.Command>) => {
  const checked = commands.map(validated)
  const encoder = new Encoder.Encoder()
  return (): Work => {
    let opaque = 0
    for (let i = 0; i < checked.length; i++) {
      encoder.appendMeta(checked[i]!, opaque)
      opaque += MetaForm.opaques(checked[i]!)
    }
    return taken(encoder, checked.length)
  }
}

// Takes what was appended: `units` commands.
const taken = (encoder: Encoder.Encoder, units: number): Work => {
  const chunks = encoder.take()
  let bytes = 0
  for (let i = 0; i < chunks.length; i++) bytes += chunks[i]!.byteLength
  checksum += chunks[0]![0]!
  return { units, bytes }
}

// The per-command path: validate, then one exact-size array per command.
const encodeCase = (commands: ReadonlyArray<Command.Command>) => (): Work => {
  let bytes = 0
  for (let i = 0; i < commands.length; i++) bytes += Encoder.encode(validated(commands[i]!)).byteLength
  return { units: commands.length, bytes }
}

// ---------------------------------------------------------------------------------------------------------------
// decoder
// ---------------------------------------------------------------------------------------------------------------

// Decodes `replies` replies from `chunks` with one decoder reused across iterations (the stream ends on a
// reply boundary, so the decoder is idle between iterations, as on a real connection).
const decoderCase = (expectation: Reply.Expectation, replies: number, chunks: ReadonlyArray<Uint8Array>) => {
  let decoded = 0
  let valueBytes = 0
  const decoder = new Decoder.Decoder({
    onReply: (reply) => {
      decoded++
      if (reply._tag === "Values") {
        for (let i = 0; i < reply.values.length; i++) valueBytes += reply.values[i]!.value.byteLength
      }
    },
    onError: (error) => {
      throw error
    }
  })
  let bytes = 0
  for (const chunk of chunks) bytes += chunk.byteLength
  return (): Work => {
    decoded = 0
    for (let i = 0; i < replies; i++) decoder.expect(expectation)
    for (let i = 0; i < chunks.length; i++) decoder.feed(chunks[i]!)
    if (decoded !== replies || decoder.pending !== 0) {
      throw new Error(`decoded ${decoded} of ${replies} replies (${decoder.failed?.message ?? "no error"})`)
    }
    checksum += valueBytes & 1
    return { units: replies, bytes }
  }
}

// The meta-form twin of `decoderCase`: each reply's lines carry the opaques from 0 up, as the encoder numbered them.
const metaDecoderCase = (expectation: Reply.Expectation, replies: number, chunks: ReadonlyArray<Uint8Array>) => {
  let decoded = 0
  const decoder = new Decoder.Decoder({
    onReply: () => {
      decoded++
    },
    onError: (error) => {
      throw error
    }
  })
  const width = expectation._tag === "Retrieval" ? expectation.keys.length : 1
  let bytes = 0
  for (const chunk of chunks) bytes += chunk.byteLength
  return (): Work => {
    decoded = 0
    for (let i = 0; i < replies; i++) decoder.expectMeta(expectation, i * width)
    for (let i = 0; i < chunks.length; i++) decoder.feed(chunks[i]!)
    if (decoded !== replies || decoder.pending !== 0) {
      throw new Error(`decoded ${decoded} of ${replies} replies (${decoder.failed?.message ?? "no error"})`)
    }
    return { units: replies, bytes }
  }
}

/** `count` replies to a get of `keys` keys that all hit (100 B values), text or meta form (opaques from 0 up). */
const manyGetReplies = (keys: number, count: number, meta: boolean): Uint8Array => {
  const value = filled(100, 3)
  const parts: Array<Uint8Array> = []
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < keys; k++) {
      parts.push(utf8.encode(meta ? `VA 100 f0 O${r * keys + k}\r\n` : `VALUE key:${k} 0 100\r\n`), value, CRLF)
    }
    parts.push(utf8.encode(meta ? "MN\r\n" : "END\r\n"))
  }
  return concat(parts)
}

const CRLF = utf8.encode("\r\n")

const getReplies = (key: string, valueLength: number, count: number): Uint8Array => {
  const one = concat([
    utf8.encode(`VALUE ${key} 0 ${valueLength}\r\n`),
    filled(valueLength, valueLength),
    utf8.encode("\r\nEND\r\n")
  ])
  const stream = new Uint8Array(one.byteLength * count)
  for (let i = 0; i < count; i++) stream.set(one, i * one.byteLength)
  return stream
}

// ---------------------------------------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------------------------------------

const main = () => {
  const cpus = os.cpus()
  console.log("effect-memcache protocol benchmark (encoder and decoder only, no I/O)")
  console.log(
    `machine: ${cpus[0]?.model.trim() ?? "unknown cpu"} (${cpus.length} logical cpus), node ${process.version}, ${os.platform()} ${os.arch()}`
  )
  console.log(
    `each case: ${WARMUP_MILLIS} ms warm-up, then ${RUNS} runs of ~${RUN_MILLIS} ms; median (min..max, ±half-range % of the median)`
  )
  const started = performance.now()

  console.log("\nencoder (Encoder.Encoder append + take, 1000 commands per take)")
  const gets = Array.from({ length: PER_TAKE }, () => Command.get("k"))
  report("get k", measure(encoderCase(gets)), " cmds")
  const hundred = filled(100, 1)
  const sets = Array.from({ length: PER_TAKE }, (_, i) => Command.set(`key:${i}`, hundred, { flags: 1, exptime: 300 }))
  report("set key:<i> 1 300 100 (100 B value)", measure(encoderCase(sets)), " cmds")
  report("  the same with Validation.validate first", measure(validateEncoderCase(sets)), " cmds")
  report("  the same with Encoder.encode (one array each)", measure(encodeCase(sets)), " cmds")

  console.log("\ndecoder")
  const small = Reply.retrieval(["k"], false)
  const smallStream = getReplies("k", 100, 20_000)
  report(
    "get k, 100 B value, 20000 replies, 64 KiB chunks",
    measure(decoderCase(small, 20_000, chunksOf(smallStream, CHUNK))),
    " replies"
  )
  const byteStream = getReplies("k", 100, 1_000)
  report(
    "get k, 100 B value, 1000 replies, 1-byte chunks",
    measure(decoderCase(small, 1_000, chunksOf(byteStream, 1))),
    " replies"
  )
  const stored = utf8.encode("STORED\r\n".repeat(20_000))
  report(
    "STORED, 20000 replies, 64 KiB chunks",
    measure(decoderCase(Reply.expect.Storage, 20_000, chunksOf(stored, CHUNK))),
    " replies"
  )
  report(
    "get k, 100 KB value, 40 replies, 64 KiB chunks",
    measure(decoderCase(small, 40, chunksOf(getReplies("k", 100_000, 40), CHUNK))),
    " replies"
  )
  report(
    "get k, 1 MB value, 8 replies, 64 KiB chunks",
    measure(decoderCase(small, 8, chunksOf(getReplies("k", 1_000_000, 8), CHUNK))),
    " replies"
  )

  console.log('\nmeta form (protocol: "meta") against text, the same work')
  const hundredKeys = Array.from({ length: 100 }, (_, k) => `key:${k}`)
  const many = Array.from({ length: 100 }, () => Command.get(hundredKeys))
  report("encode get of 100 keys, text", measure(encoderCase(many)), " cmds")
  report("encode get of 100 keys, meta form", measure(metaEncoderCase(many)), " cmds")
  report("encode set key:<i> 100 B, meta form", measure(metaEncoderCase(sets)), " cmds")
  const manyExpectation = Reply.retrieval(hundredKeys, false)
  report(
    "decode get of 100 keys x 100 B, 100 replies, text",
    measure(decoderCase(manyExpectation, 100, chunksOf(manyGetReplies(100, 100, false), CHUNK))),
    " replies"
  )
  report(
    "decode get of 100 keys x 100 B, 100 replies, meta form",
    measure(metaDecoderCase(manyExpectation, 100, chunksOf(manyGetReplies(100, 100, true), CHUNK))),
    " replies"
  )
  const hd = utf8.encode(Array.from({ length: 20_000 }, (_, i) => `HD O${i}\r\n`).join(""))
  report(
    "decode HD O<n> (a set's meta form), 20000 replies",
    measure(metaDecoderCase(Reply.expect.Storage, 20_000, chunksOf(hd, CHUNK))),
    " replies"
  )

  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s (checksum ${checksum & 0xff})`)
}

main()
