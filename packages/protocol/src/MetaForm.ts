/**
 * The meta form of the text commands: how a connection that speaks only the meta protocol sends `set`, `get`,
 * `delete` and the other keyed text commands, and reads their replies back as the text replies (`Stored`,
 * `Values`, `Deleted`, ...), so that code written against the text replies runs unchanged.
 *
 * - `Encoder.appendMeta(command, opaque)` writes the form: storage and cas as `ms`, get/gets/gat/gats as a run of
 *   quiet `mg` (one per key, with consecutive opaques) closed by `mn`, delete as `md`, incr/decr as `ma`, touch as
 *   `mg` with `T`. Every line carries `O<opaque>`; a noreply command is sent quiet (`q`); a key that holds a space
 *   or a control byte (accepted with `Validation.Limits.base64Keys`) goes base64 (`b`). Commands without a meta
 *   form (stats, version, flush_all, verbosity, cache_memlimit, quit, shutdown, and the meta commands themselves)
 *   are written as they are.
 * - `Decoder.expectMeta(expectation, opaque)` reads the reply: the expectation is the command's text expectation
 *   (`Reply.expectation`). Every reply line must carry the request's opaque (another one is a protocol error).
 * - Noreply commands go quiet, and a run of them is closed by `mn` (`Validation.sync`), expected with
 *   `Decoder.expectMetaSync(first, end)`: the server answers a quiet command only when it fails, and such an
 *   answer is read and dropped (an error reply going to the decoder's `onQuietError`).
 *
 * @since 0.1.0
 */
import type * as Command from "./Command.ts"
import { opaquesOf } from "./internal/metaFormCodecs.ts"

/**
 * How many opaques the meta form of `command` takes, from the one given to `Encoder.appendMeta` on: one per key
 * for get/gets/gat/gats, one for the other keyed text commands, and 0 for a command written as it is (it has no
 * meta form, and is expected with `Decoder.expect`).
 *
 * @example
 * ```ts
 * import { Command, MetaForm } from "@effect-memcache/protocol"
 * MetaForm.opaques(Command.get(["a", "b", "c"])) // 3
 * MetaForm.opaques(Command.delete("a")) // 1
 * MetaForm.opaques(Command.version) // 0
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const opaques = (command: Command.Command): number => opaquesOf(command)

/**
 * The largest opaque a meta form may carry, so that a decoder parses every opaque as a safe integer: a caller
 * that counts opaques up starts over from 0 before passing it.
 *
 * @example
 * ```ts
 * import { MetaForm } from "@effect-memcache/protocol"
 * MetaForm.MAX_OPAQUE // 2147483647
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_OPAQUE = 2147483647
