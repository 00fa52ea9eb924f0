/**
 * A store's generation: a decimal counter in one memcached item, part of every key of the store, so that bumping
 * it makes every entry written before unreachable at once (memcached cannot list or delete by prefix). The old
 * entries stay until they expire or are evicted.
 *
 * A missing counter (never written, or evicted) starts at the current time in milliseconds: later than every
 * generation an earlier counter could have reached, unless it was bumped more times than milliseconds went by
 * since it started (or the clients' clocks disagree by more), so an evicted counter does not bring back cleared
 * entries. The counter never expires, and it is read on
 * every call of its store, so memcached's LRU keeps it.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Memcache from "../Memcache.ts"
import { MemcacheSerializationError } from "../MemcacheError.ts"
import type * as Serializer from "../Serializer.ts"

type Raw = Memcache.MemcacheShape<Serializer.Serialized>

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const digits = (key: string, item: Serializer.Serialized): Effect.Effect<string, MemcacheSerializationError> => {
  // decr pads a shorter number with spaces; incr never does, but a foreign writer might.
  const text = decoder.decode(item.bytes).trim()
  return /^[0-9]{1,20}$/.test(text)
    ? Effect.succeed(text)
    : Effect.fail(
        new MemcacheSerializationError({ key, flags: item.flags, reason: "the store's generation is not a number" })
      )
}

/** The generation stored at `key`, started at the current time in milliseconds when missing. */
export const current = (raw: Raw, key: string): Effect.Effect<string, Memcache.ValueError> =>
  Effect.gen(function* () {
    // Two rounds: a counter added by another client between our miss and our add is read on the second.
    for (let round = 0; round < 2; round++) {
      const hit = yield* raw.get(key)
      if (Option.isSome(hit)) return yield* digits(key, hit.value)
      const start = String(yield* Clock.currentTimeMillis)
      if (yield* raw.add(key, { bytes: encoder.encode(start), flags: 0 }, { noreply: false })) return start
    }
    return yield* new MemcacheSerializationError({
      key,
      reason: "the store's generation could neither be read nor added (is the server evicting it at once?)"
    })
  })

/** Moves the generation at `key` past every earlier one. */
export const bump = (raw: Raw, key: string): Effect.Effect<void, Memcache.ValueError> =>
  Effect.gen(function* () {
    if (Option.isSome(yield* raw.incr(key, 1))) return
    // Missing: a fresh counter (the current time) is already past every earlier generation; bump it all the
    // same, so a reader that started it at this very millisecond does not keep its generation.
    yield* current(raw, key)
    yield* raw.incr(key, 1)
  })
