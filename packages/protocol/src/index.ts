/**
 * @since 0.1.0
 */

/**
 * Every text and meta command as a plain object, its constructors, and the verb it is sent with.
 *
 * @since 0.1.0
 */
export * as Command from "./Command.ts"

/**
 * The incremental, binary-safe reply decoder: chunks in, one reply per pending request out.
 *
 * @since 0.1.0
 */
export * as Decoder from "./Decoder.ts"

/**
 * Validated commands to bytes: one command at a time, or coalesced into few write chunks.
 *
 * @since 0.1.0
 */
export * as Encoder from "./Encoder.ts"

/**
 * Errors of the protocol layer: refused inputs and broken byte streams.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.ts"

/**
 * Expiration times: range checks and the 30-day relative/absolute rule.
 *
 * @since 0.1.0
 */
export * as Exptime from "./Exptime.ts"

/**
 * Key rules: 1..250 UTF-8 bytes, no control bytes or spaces; binary keys for meta `b`.
 *
 * @since 0.1.0
 */
export * as Key from "./Key.ts"

/**
 * Key lists cut into `get`/`gets`/`gat`/`gats` lines the server takes.
 *
 * @since 0.1.0
 */
export * as KeyList from "./KeyList.ts"

/**
 * Meta commands (`mg`, `ms`, `md`, `ma`, `me`, `mn`) with every 1.6.x flag as a typed option.
 *
 * @since 0.1.0
 */
export * as Meta from "./Meta.ts"

/**
 * The meta form of the text commands: how a meta-only connection sends them, and reads their replies back as text
 * replies.
 *
 * @since 0.1.0
 */
export * as MetaForm from "./MetaForm.ts"

/**
 * Reply forms, and the expectations that say which one a command produces.
 *
 * @since 0.1.0
 */
export * as Reply from "./Reply.ts"

/**
 * The checks of every text and meta command before it is encoded, and the limits they enforce.
 *
 * @since 0.1.0
 */
export * as Validation from "./Validation.ts"
