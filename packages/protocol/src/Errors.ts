/**
 * The two ways the protocol layer refuses: an input that must not be sent ({@link InvalidInput}, raised before
 * a byte is produced) and a byte stream that does not match what the pending requests expect
 * ({@link ProtocolError}, after which the connection must be dropped).
 *
 * Plain classes with a `_tag`, so the package needs no runtime; the client wraps them in its Schema errors.
 *
 * @since 0.1.0
 */

/**
 * Which input of a command was refused.
 *
 * @since 0.1.0
 * @category models
 */
export type InputField =
  | "key"
  | "keys"
  | "flags"
  | "exptime"
  | "ttl"
  | "cas"
  | "delta"
  | "initial"
  | "value"
  | "opaque"
  | "line"
  | "argument"

/**
 * An input that the encoder refused: nothing was encoded. `field` says which input, `reason` why, in words a
 * user can act on.
 *
 * @example
 * ```ts
 * import { Errors } from "@effect-memcache/protocol"
 * const e = new Errors.InvalidInput("key", "contains a space (byte 0x20 at offset 3)")
 * e.message // "invalid key: contains a space (byte 0x20 at offset 3)"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidInput extends Error {
  readonly _tag = "InvalidInput" as const
  readonly field: InputField
  readonly reason: string
  constructor(field: InputField, reason: string) {
    super(`invalid ${field}: ${reason}`)
    this.name = "InvalidInput"
    this.field = field
    this.reason = reason
  }
}

/**
 * The server's byte stream broke the protocol: an unexpected line, a VALUE for a key that was not requested, a
 * meta opaque that does not match, a line or value over the limits. The decoder decodes nothing more after
 * one; the connection must be dropped.
 *
 * @example
 * ```ts
 * import { Errors } from "@effect-memcache/protocol"
 * const e = new Errors.ProtocolError("unexpected line for a storage request", "FOO")
 * e.line // "FOO"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ProtocolError extends Error {
  readonly _tag = "ProtocolError" as const
  readonly reason: string
  /** The offending line (cut to 200 characters), when there is one. */
  readonly line: string | undefined
  constructor(reason: string, line?: string) {
    super(line === undefined ? reason : `${reason}: ${JSON.stringify(line)}`)
    this.name = "ProtocolError"
    this.reason = reason
    this.line = line
  }
}
