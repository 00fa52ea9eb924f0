/**
 * The values the benchmark stores, and the byte-for-byte comparison every client's replies go through.
 *
 * Every value holds `\r\nEND\r\n` (a client that scans for the terminator instead of counting bytes cuts it
 * short) and the invalid UTF-8 bytes 0xff 0xfe (a client that turns values into strings changes them), then
 * pseudo-random bytes, and starts with its own index so that a reply matched to the wrong request is caught.
 *
 * @since 0.1.0
 */

const TRAP = Buffer.from("\r\nEND\r\n\xff\xfe\x00\x80", "latin1")

/**
 * The value of index `index` of a keyspace, `size` bytes long (at least 24).
 *
 * @example
 * ```ts
 * import { makeValue } from "./Values.ts"
 * makeValue("W1", 3, 100).length // 100
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeValue = (tag: string, index: number, size: number): Buffer => {
  const value = Buffer.allocUnsafe(size)
  const head = Buffer.from(`${tag}#${index}:`, "latin1")
  head.copy(value, 0)
  let at = head.length
  at += TRAP.copy(value, at)
  // xorshift32: cheap, deterministic per index, and nothing like text.
  let x = (index + 1) * 2654435761
  x >>>= 0
  if (x === 0) x = 1
  while (at < size) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    value[at++] = x & 0xff
  }
  return value
}

/**
 * The values of a whole keyspace.
 *
 * @example
 * ```ts
 * import { makeValues } from "./Values.ts"
 * makeValues("W1", 10, 100).length // 10
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeValues = (tag: string, count: number, size: number): ReadonlyArray<Buffer> =>
  Array.from({ length: count }, (_, i) => makeValue(tag, i, size))

const describe = (got: unknown): string => {
  if (got === null || got === undefined) return String(got)
  if (typeof got === "string") return `a string of ${got.length} characters`
  if (got instanceof Uint8Array) return `${got.length} bytes`
  return typeof got
}

/**
 * Compares what a client returned with the expected bytes: `undefined` when they are the same bytes, else what
 * is wrong. A string is compared through its UTF-8 bytes, so a client that decoded the value as text fails.
 *
 * @example
 * ```ts
 * import { mismatch } from "./Values.ts"
 * mismatch(Buffer.from("ab"), Uint8Array.of(97, 98)) // undefined
 * ```
 *
 * @since 0.1.0
 * @category comparisons
 */
export const mismatch = (expected: Uint8Array, got: unknown): string | undefined => {
  if (got instanceof Uint8Array) {
    if (got.length === expected.length && Buffer.compare(got, expected) === 0) return undefined
  } else if (typeof got === "string") {
    const bytes = Buffer.from(got, "utf8")
    if (bytes.length === expected.length && Buffer.compare(bytes, expected) === 0) return undefined
  }
  return `expected ${expected.length} bytes, got ${describe(got)}${firstDifference(expected, got)}`
}

const firstDifference = (expected: Uint8Array, got: unknown): string => {
  const bytes = got instanceof Uint8Array ? got : typeof got === "string" ? Buffer.from(got, "utf8") : undefined
  if (bytes === undefined) return ""
  const n = Math.min(bytes.length, expected.length)
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== expected[i]) return ` (first difference at byte ${i})`
  }
  return ` (one is a prefix of the other)`
}

/**
 * The outcome of the sampled comparisons of one run: how many were made, and the first that failed.
 *
 * @example
 * ```ts
 * import { Checks } from "./Values.ts"
 * const checks = new Checks()
 * checks.check("k", Buffer.from("a"), "a")
 * checks.failure // undefined
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Checks {
  count = 0
  failures = 0
  failure: string | undefined = undefined

  /**
   * Compares one reply; records the first failure.
   *
   * @since 0.1.0
   */
  check(key: string, expected: Uint8Array, got: unknown): void {
    this.count++
    const wrong = mismatch(expected, got)
    if (wrong === undefined) return
    this.failures++
    if (this.failure === undefined) this.failure = `${key}: ${wrong}`
  }
}
