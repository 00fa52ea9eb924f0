/**
 * The replies a memcached server sends, as the decoder hands them over, and the expectations that tell the
 * decoder which reply form the next pending request must produce.
 *
 * @since 0.1.0
 */
import type * as Command from "./Command.ts"

/**
 * One item of a retrieval reply (`VALUE <key> <flags> <bytes> [<cas>]` and its data block).
 *
 * `value` is either a view into a chunk the decoder was fed (when the whole block arrived in one chunk) or a
 * single copy assembled from several chunks; payloads are never concatenated as strings.
 *
 * @example
 * ```ts
 * import type { Reply } from "@effect-memcache/protocol"
 * const show = (v: Reply.Value) => `${v.key} flags=${v.flags} bytes=${v.value.byteLength}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Value {
  readonly key: string
  readonly flags: number
  readonly value: Uint8Array
  /** Present for `gets`/`gats` replies. */
  readonly cas: bigint | undefined
}

/**
 * The flags a meta reply (`HD`, `VA`, `EN`, `NF`, `NS`, `EX`) carries, parsed. Absent fields were not returned.
 *
 * @example
 * ```ts
 * import type { Reply } from "@effect-memcache/protocol"
 * const ttlOf = (f: Reply.MetaFlags) => f.ttl ?? "not asked for"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MetaFlags {
  /** `O<opaque>` echoed back. */
  readonly opaque?: string | undefined
  /** `k<key>`; when the key was base64 (`b` flag in the reply) this is the decoded key, as latin1 text. */
  readonly key?: string | undefined
  /** `b`: the returned key was base64 encoded. */
  readonly base64Key?: boolean | undefined
  /** `c<cas>` */
  readonly cas?: bigint | undefined
  /** `f<flags>` */
  readonly flags?: number | undefined
  /** `t<ttl>`: remaining seconds, `-1` when the item never expires. */
  readonly ttl?: number | undefined
  /** `s<size>` */
  readonly size?: number | undefined
  /** `h0`/`h1`: whether the item had been hit before. */
  readonly hit?: boolean | undefined
  /** `l<seconds>`: seconds since the item was last accessed. */
  readonly lastAccess?: number | undefined
  /** `W`: this client won the right to recache the item. */
  readonly win?: boolean | undefined
  /** `X`: the item is stale. */
  readonly stale?: boolean | undefined
  /** `Z`: a win token was already handed out for this item. */
  readonly winSent?: boolean | undefined
}

/**
 * Every reply form the decoder produces. `ERROR`, `CLIENT_ERROR` and `SERVER_ERROR` are valid replies to any
 * request (they are memcache errors, not protocol errors); anything the pending request cannot produce is a
 * `Errors.ProtocolError` instead.
 *
 * @example
 * ```ts
 * import type { Reply } from "@effect-memcache/protocol"
 * const describe = (r: Reply.Reply): string => r._tag === "Values" ? `${r.values.length} hits` : r._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Reply =
  | Values
  | Stored
  | NotStored
  | Exists
  | NotFound
  | Deleted
  | Touched
  | Ok
  | Reset
  | Numeric
  | Stats
  | Version
  | Status
  | ErrorReply
  | ClientErrorReply
  | ServerErrorReply
  | Meta
  | MetaDebug

/** @since 0.1.0 @category models */
export interface Values {
  readonly _tag: "Values"
  readonly values: ReadonlyArray<Value>
}
/** @since 0.1.0 @category models */
export interface Stored {
  readonly _tag: "Stored"
}
/** @since 0.1.0 @category models */
export interface NotStored {
  readonly _tag: "NotStored"
}
/** @since 0.1.0 @category models */
export interface Exists {
  readonly _tag: "Exists"
}
/** @since 0.1.0 @category models */
export interface NotFound {
  readonly _tag: "NotFound"
}
/** @since 0.1.0 @category models */
export interface Deleted {
  readonly _tag: "Deleted"
}
/** @since 0.1.0 @category models */
export interface Touched {
  readonly _tag: "Touched"
}
/** @since 0.1.0 @category models */
export interface Ok {
  readonly _tag: "Ok"
}
/** `RESET`, the reply to `stats reset`. @since 0.1.0 @category models */
export interface Reset {
  readonly _tag: "Reset"
}
/** The reply to `incr`/`decr`: the new value (never padded). @since 0.1.0 @category models */
export interface Numeric {
  readonly _tag: "Numeric"
  readonly value: bigint
}
/**
 * `STAT <name> <value>` lines up to `END`. `lines` keeps the other line kinds `stats` sub-commands produce
 * (`ITEM ...` for `cachedump`, `PREFIX ...` for `detail dump`), whole and in order.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly _tag: "Stats"
  readonly stats: ReadonlyArray<readonly [name: string, value: string]>
  readonly lines: ReadonlyArray<string>
}
/** `VERSION <rest of line>`. @since 0.1.0 @category models */
export interface Version {
  readonly _tag: "Version"
  readonly version: string
}
/**
 * Other one-word replies of admin commands, such as `MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m`
 * (`cache_memlimit`), `BUSY ...` or `NOSPARE ...`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly _tag: "Status"
  readonly word: string
  readonly text: string
}
/** `ERROR` or `ERROR <text>` (also `ERROR: <text>`); `text` is `""` for a bare `ERROR`. @since 0.1.0 @category models */
export interface ErrorReply {
  readonly _tag: "Error"
  readonly text: string
}
/** `CLIENT_ERROR <text>`. @since 0.1.0 @category models */
export interface ClientErrorReply {
  readonly _tag: "ClientError"
  readonly text: string
}
/** `SERVER_ERROR <text>`. @since 0.1.0 @category models */
export interface ServerErrorReply {
  readonly _tag: "ServerError"
  readonly text: string
}
/**
 * A meta reply: `HD`, `VA <n>` (with its value), `EN`, `NF`, `NS`, `EX` or `MN`, with the flags returned.
 *
 * @since 0.1.0
 * @category models
 */
export interface Meta {
  readonly _tag: "Meta"
  readonly code: "HD" | "VA" | "EN" | "NF" | "NS" | "EX" | "MN"
  readonly flags: MetaFlags
  /** The data block of a `VA` reply. */
  readonly value: Uint8Array | undefined
}
/** `ME <key> k=v ...`, the reply to `me`. @since 0.1.0 @category models */
export interface MetaDebug {
  readonly _tag: "MetaDebug"
  readonly key: string
  readonly fields: Readonly<Record<string, string>>
}

/**
 * Which reply form a request produces, queued in the decoder in request order. Requests sent with `noreply`
 * (or that get no reply at all, like `quit`) queue nothing.
 *
 * - `Retrieval`: `VALUE ... END` for get/gets/gat/gats; `keys` are the keys requested (in order, as sent, so
 *   including a key prefix), `cas` whether each VALUE line carries a CAS unique. memcached answers the hits in
 *   the order asked; a VALUE for any requested key is taken in any order, as a proxy that merges the replies of
 *   several servers (twemproxy) sends them, and the reply's values are in the order they came. With `onValue`
 *   the retrieval is streamed: each value is handed to `onValue` as soon as its data block (and its `\r\n`)
 *   has been read, while the rest of the reply is still to come, and the reply that `END` completes carries no
 *   values (`values: []`). A value cut off by an error or the end of the stream is never handed over.
 * - `Storage`: STORED / NOT_STORED / EXISTS / NOT_FOUND.
 * - `Delete`: DELETED / NOT_FOUND. `Touch`: TOUCHED / NOT_FOUND. `Arithmetic`: a number / NOT_FOUND.
 * - `Ok`: OK, or a {@link Status} line (verbosity, flush_all, cache_memlimit).
 * - `Stats`: STAT/ITEM/PREFIX lines then END, or a single OK or RESET.
 * - `Version`: VERSION.
 * - `Meta`: a meta reply; `opaque` is what the request sent in `O`, which the reply must echo. A quiet (`q`)
 *   meta request must carry an opaque (so a reply can be matched to it) and must be followed, in the same
 *   batch, by `mn` (`Sync`): when a reply with another opaque, or the `MN`, arrives while a quiet request is at
 *   the head, that request's answer was suppressed and it completes with a `Meta` reply of code `suppressed`.
 * - `MetaDebug`: ME or EN.
 * - `Sync`: the `mn` that closes a batch of quiet requests: any number of ERROR/CLIENT_ERROR/SERVER_ERROR lines
 *   (the failures of the quiet requests before it), then MN.
 * - `Shutdown`: `ERROR ...` when shutdown is not enabled (otherwise the server closes the connection).
 *
 * Every expectation also accepts ERROR / CLIENT_ERROR / SERVER_ERROR as its reply.
 *
 * @example
 * ```ts
 * import { Reply } from "@effect-memcache/protocol"
 * const expectation: Reply.Expectation = Reply.retrieval(["user:1", "user:2"], false)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Expectation =
  | {
      readonly _tag: "Retrieval"
      readonly keys: ReadonlyArray<string>
      readonly cas: boolean
      /** Streams the values: each is handed here as it completes instead of in the reply (see above). */
      readonly onValue?: ((value: Value) => void) | undefined
    }
  | { readonly _tag: "Storage" }
  | { readonly _tag: "Delete" }
  | { readonly _tag: "Touch" }
  | { readonly _tag: "Arithmetic" }
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Stats" }
  | { readonly _tag: "Version" }
  | {
      readonly _tag: "Meta"
      readonly opaque: string | undefined
      /** Sent with `q`: a success (or an mg miss) is suppressed, so `suppressed` stands in for it. */
      readonly quiet: boolean
      /** The reply that a quiet command's missing answer means: `EN` for mg, `HD` for ms/md/ma. */
      readonly suppressed: "EN" | "HD"
    }
  | { readonly _tag: "MetaDebug" }
  | { readonly _tag: "Sync" }
  | { readonly _tag: "Shutdown" }

/**
 * Shared instances of the expectations that carry no data, so queueing one allocates nothing.
 *
 * @example
 * ```ts
 * import { Reply } from "@effect-memcache/protocol"
 * const e = Reply.expect.Storage
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const expect = {
  Storage: { _tag: "Storage" },
  Delete: { _tag: "Delete" },
  Touch: { _tag: "Touch" },
  Arithmetic: { _tag: "Arithmetic" },
  Ok: { _tag: "Ok" },
  Stats: { _tag: "Stats" },
  Version: { _tag: "Version" },
  Meta: { _tag: "Meta", opaque: undefined, quiet: false, suppressed: "HD" },
  MetaDebug: { _tag: "MetaDebug" },
  Sync: { _tag: "Sync" },
  Shutdown: { _tag: "Shutdown" }
} as const satisfies Record<string, Expectation>

/**
 * The expectation of a get/gets/gat/gats request for `keys`. With `onValue`, the values are streamed: each is
 * handed to it as soon as it has been read, and the reply at `END` carries none (see {@link Expectation}).
 *
 * @example
 * ```ts
 * import { Reply } from "@effect-memcache/protocol"
 * Reply.retrieval(["a", "b"], true) // for `gets a b`
 * Reply.retrieval(["a", "b"], false, (value) => console.log(value.key)) // each value as it arrives
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const retrieval = (
  keys: ReadonlyArray<string>,
  cas: boolean,
  onValue?: ((value: Value) => void) | undefined
): Expectation => ({
  _tag: "Retrieval",
  keys,
  cas,
  onValue
})

/**
 * Shared instances of the replies that carry no data: the decoder hands these out, never new objects.
 *
 * @example
 * ```ts
 * import { Reply } from "@effect-memcache/protocol"
 * const isStored = (r: Reply.Reply) => r === Reply.replies.Stored
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const replies = {
  Stored: { _tag: "Stored" } as Stored,
  NotStored: { _tag: "NotStored" } as NotStored,
  Exists: { _tag: "Exists" } as Exists,
  NotFound: { _tag: "NotFound" } as NotFound,
  Deleted: { _tag: "Deleted" } as Deleted,
  Touched: { _tag: "Touched" } as Touched,
  Ok: { _tag: "Ok" } as Ok,
  Reset: { _tag: "Reset" } as Reset
} as const

/**
 * The shared reply of a retrieval that found nothing to hand back (every key a miss, or a streamed retrieval,
 * whose values went to its `onValue`): the decoder hands out this instance, never a new empty one.
 *
 * @example
 * ```ts
 * import { Reply } from "@effect-memcache/protocol"
 * const nothing = (r: Reply.Reply) => r === Reply.emptyValues
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptyValues: Values = Object.freeze({ _tag: "Values", values: Object.freeze([]) }) as Values

const metaExpectation = (
  opaque: string | undefined,
  quiet: boolean | undefined,
  suppressed: "EN" | "HD"
): Expectation =>
  opaque === undefined && quiet !== true ? expect.Meta : { _tag: "Meta", opaque, quiet: quiet === true, suppressed }

/**
 * What the decoder must expect for a command, or `undefined` when the command gets no reply (text `noreply`
 * commands, `quit`). Quiet meta commands still get their `Meta` expectation (the server still returns their
 * errors, `NS`/`EX`/`NF` and mg hits; a suppressed answer is inferred from the next reply), which is why a
 * quiet batch must end with `Command.sync` (`mn`), expected as `Sync`.
 *
 * @example
 * ```ts
 * import { Command, Reply } from "@effect-memcache/protocol"
 * Reply.expectation(Command.get(["a"])) // { _tag: "Retrieval", keys: ["a"], cas: false }
 * Reply.expectation(Command.delete("a", { noreply: true })) // undefined
 * ```
 *
 * @since 0.1.0
 * @category expectations
 */
export const expectation = (command: Command.Command): Expectation | undefined => {
  switch (command._tag) {
    case "Store":
    case "Cas":
      return command.noreply ? undefined : expect.Storage
    case "Get":
      return retrieval(command.keys, command.verb === "gets")
    case "Gat":
      return retrieval(command.keys, command.verb === "gats")
    case "Delete":
      return command.noreply ? undefined : expect.Delete
    case "Arithmetic":
      return command.noreply ? undefined : expect.Arithmetic
    case "Touch":
      return command.noreply ? undefined : expect.Touch
    case "Stats":
      return expect.Stats
    case "Version":
      return expect.Version
    case "Verbosity":
    case "FlushAll":
    case "CacheMemlimit":
      return command.noreply ? undefined : expect.Ok
    case "Quit":
      return undefined
    case "Shutdown":
      return expect.Shutdown
    case "MetaNoop":
      return expect.Sync
    case "MetaDebug":
      return expect.MetaDebug
    case "MetaGet":
      return metaExpectation(command.opaque, command.quiet, "EN")
    case "MetaSet":
    case "MetaDelete":
    case "MetaArithmetic":
      return metaExpectation(command.opaque, command.quiet, "HD")
  }
}
