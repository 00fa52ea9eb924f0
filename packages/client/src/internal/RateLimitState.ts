/**
 * The rate limiter's state as memcached items hold it, and the algorithms over it as pure steps: given the state
 * read (or none) and the time, what to answer and what to write back. The steps are those of Effect's own
 * `RateLimiter.layerStoreMemory`, so the memcached store answers as the reference store does; the CAS loop that
 * makes them atomic is in `MemcacheRateLimiter`.
 *
 * @internal
 */
import * as Crypto from "node:crypto"

/** What a step answers, and the state to store (with its expiry, in Clock millis), or nothing to store. */
export interface Step<S, R> {
  readonly result: R
  readonly write: { readonly state: S; readonly expiresAt: number } | undefined
}

/** A fixed window's counter: the tokens taken, and when the window ends (Clock millis, fractions kept). */
export interface FixedWindow {
  readonly count: number
  readonly expiresAt: number
}

/** A token bucket: the tokens left (negative when overdrawn), and where the current refill interval began. */
export interface TokenBucket {
  readonly tokens: number
  readonly lastRefill: number
}

/** The fixed-window step of `RateLimiterStore.fixedWindow`: `[count, ttlMillis]`. */
export const fixedWindow = (
  current: FixedWindow | undefined,
  now: number,
  options: { readonly tokens: number; readonly refillMillis: number; readonly limit: number | undefined }
): Step<FixedWindow, readonly [count: number, ttl: number]> => {
  const window = current !== undefined && current.expiresAt > now ? current : { count: 0, expiresAt: now }
  const count = window.count + options.tokens
  if (options.limit !== undefined && count > options.limit) {
    return { result: [count, window.expiresAt - now], write: undefined }
  }
  const expiresAt = window.expiresAt + options.refillMillis * options.tokens
  return { result: [count, expiresAt - now], write: { state: { count, expiresAt }, expiresAt } }
}

/** The token-bucket step of `RateLimiterStore.tokenBucket`: `[remaining, elapsedMillis]`. */
export const tokenBucket = (
  current: TokenBucket | undefined,
  now: number,
  options: {
    readonly tokens: number
    readonly limit: number
    readonly refillMillis: number
    readonly allowOverflow: boolean
  }
): Step<TokenBucket, readonly [remaining: number, elapsedMillis: number]> => {
  const { limit, refillMillis } = options
  let tokens = current?.tokens ?? limit
  let lastRefill = current?.lastRefill ?? now
  const refills = Math.floor((now - lastRefill) / refillMillis)
  if (refills > 0) {
    tokens = Math.min(limit, tokens + refills)
    lastRefill += refills * refillMillis
  }
  if (tokens >= limit) lastRefill = now
  const remaining = tokens - options.tokens
  const stored = options.allowOverflow || remaining >= 0 ? remaining : tokens
  const elapsed = Math.max(0, now - lastRefill)
  const result = [remaining, elapsed] as const
  // A missing bucket is a full one: nothing to store while it stays full, nor when nothing changed.
  const unchanged =
    current === undefined ? stored >= limit : stored === current.tokens && lastRefill === current.lastRefill
  if (unchanged) return { result, write: undefined }
  // Full again after this long; an item gone after that reads as the full bucket it would be.
  const ttl = Math.max(1, Math.ceil(Math.ceil(limit - stored) * refillMillis - elapsed))
  return { result, write: { state: { tokens: stored, lastRefill }, expiresAt: now + ttl } }
}

// Values: a tag, then the numbers as JavaScript prints them (shortest text that reads back as the same double).

const FIXED_WINDOW_TAG = "fw1"
const TOKEN_BUCKET_TAG = "tb1"

const format = (tag: string, a: number, b: number): string => `${tag} ${a} ${b}`

const parse = (tag: string, text: string): readonly [number, number] | undefined => {
  const parts = text.split(" ")
  if (parts.length !== 3 || parts[0] !== tag) return undefined
  const a = Number(parts[1])
  const b = Number(parts[2])
  return parts[1] !== "" && parts[2] !== "" && Number.isFinite(a) && Number.isFinite(b) ? [a, b] : undefined
}

/** The item text of a fixed window. */
export const formatFixedWindow = (state: FixedWindow): string => format(FIXED_WINDOW_TAG, state.count, state.expiresAt)

/** A fixed window from its item text, or `undefined` when the text is not one. */
export const parseFixedWindow = (text: string): FixedWindow | undefined => {
  const parsed = parse(FIXED_WINDOW_TAG, text)
  return parsed === undefined ? undefined : { count: parsed[0], expiresAt: parsed[1] }
}

/** The item text of a token bucket. */
export const formatTokenBucket = (state: TokenBucket): string =>
  format(TOKEN_BUCKET_TAG, state.tokens, state.lastRefill)

/** A token bucket from its item text, or `undefined` when the text is not one. */
export const parseTokenBucket = (text: string): TokenBucket | undefined => {
  const parsed = parse(TOKEN_BUCKET_TAG, text)
  return parsed === undefined ? undefined : { tokens: parsed[0], lastRefill: parsed[1] }
}

/** The longest rate-limit key used as it is in an item key (the rest of memcached's 250 bytes is for prefixes). */
export const MAX_PLAIN_KEY_LENGTH = 150

const isPlain = (key: string): boolean => {
  if (key.length === 0 || key.length > MAX_PLAIN_KEY_LENGTH || key.startsWith("#")) return false
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i)
    if (code <= 0x20 || code >= 0x7f) return false
  }
  return true
}

/**
 * A rate-limit key as a memcached key part: itself when it is printable ASCII of at most
 * {@link MAX_PLAIN_KEY_LENGTH} characters not starting with `#`; otherwise `#` and the base64url SHA-256 of its
 * UTF-8 bytes (so two keys never share an item, short of a SHA-256 collision).
 */
export const itemKey = (key: string): string =>
  isPlain(key) ? key : `#${Crypto.createHash("sha256").update(key, "utf8").digest("base64url")}`
