/**
 * The benchmark's workloads and clients: what each run does, how many operations it times, and which clients
 * take part.
 *
 * @since 0.1.0
 */

/**
 * The clients, in the order they run within a round and appear as columns.
 *
 * @example
 * ```ts
 * import { clients } from "./Workload.ts"
 * clients[0] // "effect-memcache"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const clients = [
  "effect-memcache",
  "memjs",
  "memcache-client",
  "memcached",
  "reference",
  "reference-effect",
  "effect-memcache-nospans",
  "effect-memcache-tracer",
  "effect-memcache-metrics",
  "effect-memcache-meta",
  "reference-meta"
] as const

/**
 * One client of the benchmark.
 *
 * @example
 * ```ts
 * import type { ClientId } from "./Workload.ts"
 * const c: ClientId = "reference"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ClientId = (typeof clients)[number]

/**
 * A two-letter code per client, so every client's keys have the same length.
 *
 * @example
 * ```ts
 * import { clientCode } from "./Workload.ts"
 * clientCode.memjs // "mj"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const clientCode: Record<ClientId, string> = {
  "effect-memcache": "fx",
  memjs: "mj",
  "memcache-client": "mc",
  memcached: "md",
  reference: "rf",
  "effect-memcache-nospans": "fs",
  "effect-memcache-tracer": "ft",
  "effect-memcache-metrics": "fm",
  "effect-memcache-meta": "fq",
  "reference-meta": "rq",
  "reference-effect": "re"
}

/**
 * What one operation of a workload is.
 *
 * - `get`: one get of a stored key.
 * - `set`: one set, waiting for its reply unless `noreply`.
 * - `getMany`: one multi-get of `batch` stored keys.
 * - `setGet`: one set (waiting for STORED) then one get of the same key.
 * - `burst`: `batch` gets started at once, all awaited; counted as `batch` operations.
 *
 * @example
 * ```ts
 * import type { Kind } from "./Workload.ts"
 * const k: Kind = "get"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "get" | "set" | "getMany" | "setGet" | "burst"

/**
 * One workload: a closed loop of `ops` operations with `concurrency` in flight, after `warmup` untimed ones.
 *
 * @example
 * ```ts
 * import { workloads } from "./Workload.ts"
 * workloads.find((w) => w.id === "W1")?.concurrency // 1
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Workload {
  readonly id: string
  readonly title: string
  readonly kind: Kind
  /** Bytes per value. */
  readonly valueSize: number
  /** Distinct keys the workload cycles through (all stored before timing for reads). */
  readonly keyspace: number
  /** Keys per operation for `getMany`, gets per burst for `burst`. */
  readonly batch: number
  readonly concurrency: number
  /** memcached servers the client is given (a cluster when more than one). */
  readonly servers: number
  /** Operations timed (bursts for `burst`). */
  readonly ops: number
  /** Operations run before timing starts, to warm the JIT and the connection. */
  readonly warmup: number
  /** `set` only: send without waiting for a reply (this project's default). */
  readonly noreply: boolean
  /** What one counted operation is, for the report. */
  readonly unit: string
  /** The clients that run it (all when absent). */
  readonly only?: ReadonlyArray<ClientId>
  /** This project only: its automatic batching of concurrent gets (default on, as for its users). */
  readonly batching?: boolean
}

const KB = 1024

/**
 * Every workload, in report order. Counts are chosen so that the whole benchmark stays within about fifteen minutes
 * on two cores with five rounds (see also {@link capMillis}).
 *
 * @example
 * ```ts
 * import { workloads } from "./Workload.ts"
 * workloads.map((w) => w.id)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const workloads: ReadonlyArray<Workload> = [
  {
    id: "W1",
    title: "get 100 B, 1 in flight",
    kind: "get",
    valueSize: 100,
    keyspace: 1000,
    batch: 1,
    servers: 1,
    concurrency: 1,
    ops: 30_000,
    warmup: 3_000,
    noreply: false,
    unit: "gets/s"
  },
  {
    id: "W2",
    title: "get 100 B, 100 in flight",
    kind: "get",
    valueSize: 100,
    keyspace: 10_000,
    batch: 1,
    servers: 1,
    concurrency: 100,
    ops: 150_000,
    warmup: 15_000,
    noreply: false,
    unit: "gets/s"
  },
  {
    id: "W3",
    title: "set 100 B, 100 in flight, wait for reply",
    kind: "set",
    valueSize: 100,
    keyspace: 10_000,
    batch: 1,
    servers: 1,
    concurrency: 100,
    ops: 300_000,
    warmup: 30_000,
    noreply: false,
    unit: "sets/s"
  },
  {
    id: "W3q",
    title: "set 100 B, 100 in flight, noreply",
    kind: "set",
    valueSize: 100,
    keyspace: 10_000,
    batch: 1,
    servers: 1,
    concurrency: 100,
    ops: 400_000,
    warmup: 40_000,
    noreply: true,
    unit: "sets/s",
    only: ["effect-memcache", "reference", "reference-effect"]
  },
  {
    id: "W4",
    title: "getMany 100 keys × 100 B, 10 in flight",
    kind: "getMany",
    valueSize: 100,
    keyspace: 10_000,
    batch: 100,
    servers: 1,
    concurrency: 10,
    ops: 20_000,
    // After 2,000 calls V8 was still compiling: about 105 ms of TurboFan work inside this project's 1 s timed
    // phase and 70 ms inside the reference's; after 6,000, 46 and 43 ms.
    warmup: 6_000,
    noreply: false,
    unit: "calls/s"
  },
  {
    id: "W5",
    title: "get 100 KB, 16 in flight",
    kind: "get",
    valueSize: 100 * KB,
    keyspace: 64,
    batch: 1,
    servers: 1,
    concurrency: 16,
    ops: 15_000,
    warmup: 1_500,
    noreply: false,
    unit: "gets/s"
  },
  {
    id: "W6",
    title: "set then get 512 KB, 1 at a time",
    kind: "setGet",
    valueSize: 512 * KB,
    keyspace: 8,
    batch: 1,
    servers: 1,
    concurrency: 1,
    ops: 3_000,
    // One call of each kind per pair, so V8 takes long to finish: traced in windows of 1,500 pairs, every client
    // (the reference too) still had functions optimized and its CPU per pair still falling in the second and third
    // windows; from the fourth on, a compile or two and a flat CPU per pair. After 1,500 warm-up pairs the timed
    // phase measured that warm-up, so the warm-up is three windows.
    warmup: 4_500,
    noreply: false,
    unit: "set+get pairs/s"
  },
  {
    id: "W7",
    title: "1,000 concurrent gets (burst), 100 B",
    kind: "burst",
    valueSize: 100,
    keyspace: 1000,
    batch: 1000,
    servers: 1,
    concurrency: 1000,
    ops: 150,
    warmup: 15,
    noreply: false,
    unit: "gets/s",
    only: ["effect-memcache", "reference"]
  },
  {
    id: "W7u",
    title: "W7 with this project's batching turned off",
    kind: "burst",
    valueSize: 100,
    keyspace: 1000,
    batch: 1000,
    servers: 1,
    concurrency: 1000,
    ops: 150,
    warmup: 15,
    noreply: false,
    unit: "gets/s",
    only: ["effect-memcache", "reference"],
    batching: false
  },
  {
    id: "W8",
    title: "3-server cluster getMany 100 keys × 100 B, 10 in flight",
    kind: "getMany",
    valueSize: 100,
    keyspace: 10_000,
    batch: 100,
    servers: 3,
    concurrency: 10,
    ops: 20_000,
    warmup: 2_000,
    noreply: false,
    unit: "calls/s",
    // memcache-client's several servers are failover, not a distribution: it has no cluster to measure.
    only: ["effect-memcache", "memjs", "memcached", "reference"]
  }
]

/**
 * Whether a client takes part in a workload.
 *
 * @example
 * ```ts
 * import { runsOn, workloads } from "./Workload.ts"
 * runsOn(workloads[0]!, "memjs") // true
 * ```
 *
 * @since 0.1.0
 * @category predicates
 */
export const runsOn = (workload: Workload, client: ClientId): boolean => {
  const variant = variantOf(client)
  if (variant === "meta") return META_WORKLOADS.includes(workload.id)
  // The reference's multi-gets in the meta protocol: what memcached itself gives a get run.
  if (client === "reference-meta") return workload.id === "W4"
  return variant !== undefined
    ? VARIANT_WORKLOADS.includes(workload.id)
    : workload.only === undefined || workload.only.includes(client)
}

/** The workloads the variants of this project run: one call at a time, many writes, many multi-gets. */
const VARIANT_WORKLOADS = ["W1", "W3", "W4"]

/** The workloads the meta protocol runs: every single-server one of this project's default run. */
const META_WORKLOADS = ["W1", "W2", "W3", "W3q", "W4", "W5", "W6"]

/**
 * What a client id changes of this project's defaults, when it is one of its variants: `nospans` (the layer's
 * `spans: false`), `tracer` (an in-memory tracer installed, so every call makes a span), `metrics` (the
 * layer's `metrics: true`) or `meta` (the layer's `protocol: "meta"`). `undefined` for
 * every other client, this project's default run included.
 *
 * @example
 * ```ts
 * import { variantOf } from "./Workload.ts"
 * variantOf("effect-memcache-tracer") // "tracer"
 * ```
 *
 * @since 0.1.0
 * @category predicates
 */
export const variantOf = (client: ClientId): Variant | undefined =>
  client === "effect-memcache-nospans"
    ? "nospans"
    : client === "effect-memcache-tracer"
      ? "tracer"
      : client === "effect-memcache-metrics"
        ? "metrics"
        : client === "effect-memcache-meta"
          ? "meta"
          : undefined

/**
 * A setting of this project the benchmark varies (see {@link variantOf}).
 *
 * @since 0.1.0
 * @category models
 */
export type Variant = "nospans" | "tracer" | "metrics" | "meta"

/**
 * The key of index `i` of a workload's keyspace for a client: the same length for every client.
 *
 * @example
 * ```ts
 * import { keyOf } from "./Workload.ts"
 * keyOf("reference", "W1", 7) // "bench:rf:W1:000007"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyOf = (client: ClientId, workload: string, i: number): string =>
  `bench:${clientCode[client]}:${workload}:${String(i).padStart(6, "0")}`

/**
 * How often an operation's reply is compared byte for byte with the expected value: every `sampleEvery`-th
 * operation, the same operations for every client.
 *
 * @example
 * ```ts
 * import { sampleEvery } from "./Workload.ts"
 * const sampled = (i: number) => i % sampleEvery === 0
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const sampleEvery = 8

/**
 * The longest a timed phase (or a warm-up) may run: a client that has not finished its operations by then starts
 * no more, and is measured on the operations it started. Checked every {@link capCheckEvery} operations, outside the
 * operation itself, so the check costs every client the same and nothing per operation.
 *
 * @example
 * ```ts
 * import { capMillis } from "./Workload.ts"
 * capMillis // 5000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const capMillis = 5000

/**
 * How often (in operations started) the time cap is checked.
 *
 * @example
 * ```ts
 * import { capCheckEvery } from "./Workload.ts"
 * const check = (i: number) => i % capCheckEvery === 0
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const capCheckEvery = 64
