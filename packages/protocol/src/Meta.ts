/**
 * The meta commands of memcached 1.6.x (`mg`, `ms`, `md`, `ma`, `me`, `mn`) as plain objects, with every flag
 * the 1.6.18 server accepts as a typed option rather than a free-form flag string.
 *
 * A key is either a `string` (a text key, checked by `Key.validate`) or a `Uint8Array` (a binary key of at most
 * 186 bytes, sent base64 encoded with the `b` flag). Validation and encoding live in `Validation` and `Encoder`,
 * which handle meta and text commands alike.
 *
 * `returnKey` (`k`) is refused with a binary key: memcached 1.6.18 returns the key of an item created by `N`
 * raw instead of base64, so a key holding CR LF would split the reply line (seen on a live server).
 *
 * Flags are written in a fixed order, listed on each command. A quiet (`q`) command must carry an `opaque`
 * (so a reply can be matched to its request), and a batch of quiet commands must end with `mn`
 * (`Command.sync`), which flushes the replies of the batch.
 *
 * @since 0.1.0
 */
import { InvalidInput } from "./Errors.ts"

/**
 * Any meta command.
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * const batch: Array<Meta.MetaCommand> = [Meta.get("a", { value: true }), Meta.noop]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type MetaCommand = MetaGet | MetaSet | MetaDelete | MetaArithmetic | MetaDebug | MetaNoop

/**
 * `mg <key> <flags>*`. Flags are sent in this order: `b v s f t c k h l O q u T N R`. `t` comes before `T`, so
 * with both the reply shows the TTL from before the touch.
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const m: Meta.MetaGet = { _tag: "MetaGet", key: "a", value: true, cas: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaGet {
  readonly _tag: "MetaGet"
  readonly key: string | Uint8Array
  /** `v`: return the value (`VA` instead of `HD`). */
  readonly value?: boolean | undefined
  /** `s`: return the value size. */
  readonly size?: boolean | undefined
  /** `f`: return the client flags. */
  readonly clientFlags?: boolean | undefined
  /** `t`: return the remaining TTL (`-1` = never expires). */
  readonly ttl?: boolean | undefined
  /** `c`: return the CAS unique. */
  readonly cas?: boolean | undefined
  /** `k`: return the key. */
  readonly returnKey?: boolean | undefined
  /** `h`: return whether the item was hit before. */
  readonly hit?: boolean | undefined
  /** `l`: return the seconds since the last access. */
  readonly lastAccess?: boolean | undefined
  /** `O<opaque>`: 1..31 bytes of `[!-~]`, echoed back. */
  readonly opaque?: string | undefined
  /** `q`: suppress `EN` (a miss). Needs `opaque`. */
  readonly quiet?: boolean | undefined
  /** `u`: do not bump the item in the LRU. */
  readonly noBump?: boolean | undefined
  /** `T<exptime>`: update the expiration time. */
  readonly touch?: number | undefined
  /** `N<exptime>`: on a miss, create an empty item with this expiration and hand out the recache win (`W`). */
  readonly vivify?: number | undefined
  /** `R<ttl>`: if the remaining TTL is below this, hand out the recache win (`W`) once. */
  readonly recache?: number | undefined
}

/**
 * The storage mode of `ms` (`M` flag): `set` `MS` (the server default), `add` `ME`, `append` `MA`,
 * `prepend` `MP`, `replace` `MR`.
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const mode: Meta.SetMode = "add"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SetMode = "set" | "add" | "append" | "prepend" | "replace"

/**
 * `ms <key> <datalen> <flags>*\r\n<data>\r\n`. Flags are sent in this order: `b c C F I k O q T M`.
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const m: Meta.MetaSet = { _tag: "MetaSet", key: "a", value: new Uint8Array([104, 105]), ttl: 60 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaSet {
  readonly _tag: "MetaSet"
  readonly key: string | Uint8Array
  readonly value: Uint8Array
  /** `c`: return the CAS unique of the stored item. */
  readonly returnCas?: boolean | undefined
  /** `C<cas>`: store only if the item's CAS unique matches. */
  readonly compareCas?: bigint | undefined
  /** `F<flags>`: client flags, an unsigned 32-bit integer. */
  readonly clientFlags?: number | undefined
  /** `I`: invalidate; with `compareCas`, a lower CAS marks the item stale instead of failing. */
  readonly invalidate?: boolean | undefined
  /** `k`: return the key. */
  readonly returnKey?: boolean | undefined
  /** `O<opaque>` */
  readonly opaque?: string | undefined
  /** `q`: suppress `HD`. Needs `opaque`. */
  readonly quiet?: boolean | undefined
  /** `T<exptime>` */
  readonly ttl?: number | undefined
  /** `M<mode>` */
  readonly mode?: SetMode | undefined
}

/**
 * `md <key> <flags>*`. Flags are sent in this order: `b C I T k O q`. `ttl` is only allowed with `invalidate`
 * (the server only reads `T` when it marks the item stale).
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const m: Meta.MetaDelete = { _tag: "MetaDelete", key: "a", invalidate: true, ttl: 30 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaDelete {
  readonly _tag: "MetaDelete"
  readonly key: string | Uint8Array
  /** `C<cas>`: delete only if the CAS unique matches. */
  readonly compareCas?: bigint | undefined
  /** `I`: mark the item stale and bump its CAS instead of deleting it. */
  readonly invalidate?: boolean | undefined
  /** `T<exptime>`: with `invalidate`, the new expiration time. */
  readonly ttl?: number | undefined
  /** `k`: return the key. */
  readonly returnKey?: boolean | undefined
  /** `O<opaque>` */
  readonly opaque?: string | undefined
  /** `q`: suppress `HD`. Needs `opaque`. */
  readonly quiet?: boolean | undefined
}

/**
 * The direction of `ma` (`M` flag): `incr` `MI` (the server default) or `decr` `MD`.
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const mode: Meta.ArithmeticMode = "decr"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ArithmeticMode = "incr" | "decr"

/**
 * `ma <key> <flags>*`. Flags are sent in this order: `b C N J D T M q t c v k O`.
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const m: Meta.MetaArithmetic = { _tag: "MetaArithmetic", key: "n", vivify: 0, initial: 10n, returnValue: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaArithmetic {
  readonly _tag: "MetaArithmetic"
  readonly key: string | Uint8Array
  /** `C<cas>`: apply only if the CAS unique matches. */
  readonly compareCas?: bigint | undefined
  /** `N<exptime>`: on a miss, create the item (with `initial`) and this expiration time. */
  readonly vivify?: number | undefined
  /** `J<u64>`: the initial value for `vivify` (server default 0). */
  readonly initial?: bigint | undefined
  /** `D<u64>`: the delta (server default 1). */
  readonly delta?: bigint | undefined
  /** `T<exptime>`: update the expiration time. */
  readonly ttl?: number | undefined
  /** `M<mode>` */
  readonly mode?: ArithmeticMode | undefined
  /** `q`: suppress `HD` (and `VA`). Needs `opaque`. */
  readonly quiet?: boolean | undefined
  /** `t`: return the remaining TTL. */
  readonly returnTtl?: boolean | undefined
  /** `c`: return the CAS unique. */
  readonly returnCas?: boolean | undefined
  /** `v`: return the new value (`VA`). */
  readonly returnValue?: boolean | undefined
  /** `k`: return the key. */
  readonly returnKey?: boolean | undefined
  /** `O<opaque>` */
  readonly opaque?: string | undefined
}

/**
 * `me <key> [b]`: the debug dump of an item (`ME ...` or `EN`).
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const m: Meta.MetaDebug = { _tag: "MetaDebug", key: "a" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaDebug {
  readonly _tag: "MetaDebug"
  readonly key: string | Uint8Array
}

/**
 * `mn`: answered by `MN`; ends a batch of quiet or noreply commands.
 *
 * @example
 * ```ts
 * import type { Meta } from "@effect-memcache/protocol"
 * const m: Meta.MetaNoop = { _tag: "MetaNoop" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaNoop {
  readonly _tag: "MetaNoop"
}

type Options<A> = Omit<A, "_tag" | "key" | "value">

/**
 * Builds an `mg` command.
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * Meta.get("user:1", { value: true, ttl: true }) // mg user:1 v t
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const get = (key: string | Uint8Array, options?: Omit<MetaGet, "_tag" | "key">): MetaGet => ({
  _tag: "MetaGet",
  key,
  ...options
})

/**
 * Builds an `ms` command.
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * Meta.set("a", new TextEncoder().encode("hi"), { ttl: 60, mode: "add" }) // ms a 2 T60 ME
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const set = (key: string | Uint8Array, value: Uint8Array, options?: Options<MetaSet>): MetaSet => ({
  _tag: "MetaSet",
  key,
  value,
  ...options
})

/**
 * Builds an `md` command.
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * Meta.delete("a", { compareCas: 42n }) // md a C42
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
const deleteCommand = (key: string | Uint8Array, options?: Options<MetaDelete>): MetaDelete => ({
  _tag: "MetaDelete",
  key,
  ...options
})

export { deleteCommand as delete }

/**
 * Builds an `ma` command.
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * Meta.arithmetic("n", { delta: 5n, mode: "decr", returnValue: true }) // ma n D5 MD v
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const arithmetic = (key: string | Uint8Array, options?: Options<MetaArithmetic>): MetaArithmetic => ({
  _tag: "MetaArithmetic",
  key,
  ...options
})

/**
 * Builds an `me` command.
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * Meta.debug("a") // me a
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const debug = (key: string | Uint8Array): MetaDebug => ({ _tag: "MetaDebug", key })

/**
 * The `mn` command (one shared object).
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * const batch = [Meta.set("a", new Uint8Array(1), { quiet: true, opaque: "1" }), Meta.noop]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const noop: MetaNoop = Object.freeze({ _tag: "MetaNoop" })

/**
 * The longest opaque (`O`) token the server accepts, without the `O` (the whole token may be 32 bytes).
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * Meta.MAX_OPAQUE_LENGTH // 31
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_OPAQUE_LENGTH = 31

/**
 * Checks an opaque: 1..31 characters of `[!-~]` (printable ASCII, no space).
 *
 * @example
 * ```ts
 * import { Meta } from "@effect-memcache/protocol"
 * Meta.validateOpaque("req-1") // undefined
 * Meta.validateOpaque("a b")?.reason
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validateOpaque = (opaque: string): InvalidInput | undefined => {
  if (typeof opaque !== "string" || opaque.length === 0) {
    return new InvalidInput("opaque", "is empty (an opaque needs 1 to 31 printable ASCII characters)")
  }
  if (opaque.length > MAX_OPAQUE_LENGTH) {
    return new InvalidInput("opaque", `is ${opaque.length} characters, over the limit of ${MAX_OPAQUE_LENGTH}`)
  }
  for (let i = 0; i < opaque.length; i++) {
    const c = opaque.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) {
      return new InvalidInput(
        "opaque",
        `contains character U+${c.toString(16).toUpperCase().padStart(4, "0")} at offset ${i} (only [!-~] is allowed)`
      )
    }
  }
  return undefined
}
