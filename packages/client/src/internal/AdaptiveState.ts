/**
 * Adaptive rate limiting's state as a memcached item holds it, and its two operations as pure steps: those of
 * Effect's `RateLimiter.layerStoreMemory` (cooldown after a 429, then learning how many tokens the server took
 * in a window, then pacing at the learned rate). The CAS loop that makes them atomic is in `MemcacheRateLimiter`.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import type * as RateLimiter from "effect/persistence/RateLimiter"
import type { Step } from "./RateLimitState.ts"

/** The stored state of a key; times in Clock millis. No item (or one past `expiresAt`) is the inactive phase. */
export interface AdaptiveState {
  readonly phase: "cooldown" | "learning" | "learned"
  readonly epoch: number
  readonly cooldownUntil: number
  readonly learningStartedAt: number
  readonly observedTokens: number
  readonly learnedLimit: number
  readonly learnedWindowMillis: number
  readonly expiresAt: number
}

/** How long a state outlives its phase's end (Effect's reference stores keep it one minute more). */
const TTL_GRACE_MILLIS = 60_000
/** The longest retry-after and learned window taken (one hour, as Effect's stores). */
const MAX_WINDOW_MILLIS = 60 * 60 * 1000

/** A duration in millis, at least 1 and at most one hour (NaN is 1). */
export const clampMillis = (millis: number): number =>
  Number.isNaN(millis) || millis <= 0 ? 1 : Math.min(millis, MAX_WINDOW_MILLIS)

const live = (state: AdaptiveState | undefined, now: number) =>
  state !== undefined && state.expiresAt > now ? state : undefined

const cooldown = (epoch: number, cooldownUntil: number): AdaptiveState => ({
  phase: "cooldown",
  epoch,
  cooldownUntil,
  learningStartedAt: 0,
  observedTokens: 0,
  learnedLimit: 0,
  learnedWindowMillis: 0,
  expiresAt: cooldownUntil + TTL_GRACE_MILLIS
})

const written = (state: AdaptiveState) => ({ state, expiresAt: state.expiresAt })

const answer = (delayMillis: number, epoch: number, phase: RateLimiter.AdaptivePhase) => ({
  delay: delayMillis <= 0 ? Duration.zero : Duration.millis(delayMillis),
  epoch,
  phase
})

/** The learned phase's consume: pace `tokens` at the learned rate, as a fixed window of the learned limit does. */
const paced = (state: AdaptiveState, now: number, tokens: number) => {
  const refillMillis = state.learnedWindowMillis / state.learnedLimit
  const restart = state.cooldownUntil <= now
  const observedTokens = (restart ? 0 : state.observedTokens) + tokens
  const cooldownUntil = (restart ? now : state.cooldownUntil) + refillMillis * tokens
  const elapsed = observedTokens * refillMillis - (cooldownUntil - now)
  const windowNumber = Math.floor((observedTokens - 1) / state.learnedLimit)
  const next = { ...state, observedTokens, cooldownUntil }
  return { result: answer(windowNumber * state.learnedWindowMillis - elapsed, state.epoch, "learned"), next }
}

/** `RateLimiterStore.adaptiveConsume`. */
export const consume = (
  current: AdaptiveState | undefined,
  now: number,
  options: { readonly tokens: number; readonly fallbackWindowMillis: number }
): Step<AdaptiveState, RateLimiter.AdaptiveConsumeResult> => {
  const state = live(current, now)
  if (state === undefined) return { result: answer(0, 0, "inactive"), write: undefined }
  switch (state.phase) {
    case "cooldown": {
      if (state.cooldownUntil > now) {
        return { result: answer(state.cooldownUntil - now, state.epoch, "cooldown"), write: undefined }
      }
      const epoch = state.epoch + 1
      const learning: AdaptiveState = {
        ...cooldown(epoch, 0),
        phase: "learning",
        learningStartedAt: now,
        observedTokens: options.tokens,
        expiresAt: now + options.fallbackWindowMillis + TTL_GRACE_MILLIS
      }
      return { result: answer(0, epoch, "learning"), write: written(learning) }
    }
    case "learning": {
      const next = { ...state, observedTokens: state.observedTokens + options.tokens }
      return { result: answer(0, state.epoch, "learning"), write: written(next) }
    }
    case "learned": {
      const { result, next } = paced(state, now, options.tokens)
      return { result, write: written(next) }
    }
  }
}

/** The end of learning: the tokens accepted before the 429 over the time they took, or a cooldown if none. */
const learned = (state: AdaptiveState, now: number, tokens: number, retryAfterMillis: number): AdaptiveState => {
  const accepted = state.observedTokens - tokens
  if (accepted <= 0) return cooldown(state.epoch, now + retryAfterMillis)
  const learnedWindowMillis = clampMillis(now - state.learningStartedAt + retryAfterMillis)
  return {
    phase: "learned",
    epoch: state.epoch + 1,
    cooldownUntil: state.learningStartedAt + learnedWindowMillis,
    learningStartedAt: state.learningStartedAt,
    observedTokens: accepted,
    learnedLimit: accepted,
    learnedWindowMillis,
    expiresAt: now + learnedWindowMillis + TTL_GRACE_MILLIS
  }
}

/**
 * `RateLimiterStore.adaptiveFeedback` of a 429 with a retry-after (other feedback changes nothing and needs no
 * step). Feedback of another epoch than the state's is stale and ignored.
 */
export const feedback = (
  current: AdaptiveState | undefined,
  now: number,
  options: { readonly epoch: number; readonly tokens: number; readonly retryAfterMillis: number }
): Step<AdaptiveState, void> => {
  const state = live(current, now)
  const retryAfterMillis = clampMillis(options.retryAfterMillis)
  const cooldownUntil = now + retryAfterMillis
  if (state === undefined) {
    return { result: undefined, write: options.epoch === 0 ? written(cooldown(0, cooldownUntil)) : undefined }
  }
  if (state.epoch !== options.epoch) return { result: undefined, write: undefined }
  switch (state.phase) {
    case "cooldown":
      return { result: undefined, write: written(cooldown(state.epoch, Math.max(state.cooldownUntil, cooldownUntil))) }
    case "learning":
      return { result: undefined, write: written(learned(state, now, options.tokens, retryAfterMillis)) }
    case "learned":
      return { result: undefined, write: written(cooldown(state.epoch, cooldownUntil)) }
  }
}

const TAG = "ad1"
const PHASES: ReadonlyArray<AdaptiveState["phase"]> = ["cooldown", "learning", "learned"]

/** The item text of a state. */
export const format = (s: AdaptiveState): string =>
  [
    TAG,
    s.phase,
    s.epoch,
    s.cooldownUntil,
    s.learningStartedAt,
    s.observedTokens,
    s.learnedLimit,
    s.learnedWindowMillis,
    s.expiresAt
  ].join(" ")

/** A state from its item text, or `undefined` when the text is not one. */
export const parse = (text: string): AdaptiveState | undefined => {
  const [tag, phaseText, ...rest] = text.split(" ")
  const phase = PHASES.find((p) => p === phaseText)
  if (tag !== TAG || phase === undefined || rest.length !== 7) return undefined
  const field = (i: number): number => {
    const part = rest[i]
    return part === undefined || part === "" ? Number.NaN : Number(part)
  }
  const state: AdaptiveState = {
    phase,
    epoch: field(0),
    cooldownUntil: field(1),
    learningStartedAt: field(2),
    observedTokens: field(3),
    learnedLimit: field(4),
    learnedWindowMillis: field(5),
    expiresAt: field(6)
  }
  return rest.every((_, i) => Number.isFinite(field(i))) ? state : undefined
}
