/**
 * Helpers of the command tests: a command's bytes (validated, then encoded) and a command's refusal.
 */
import { type Command, Encoder, Errors, Validation } from "@effect-memcache/protocol"
import { expect } from "vitest"

const utf8 = new TextEncoder()

export const bytes = (s: string): Uint8Array => utf8.encode(s)

export const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1")

export const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let p = 0
  for (const c of chunks) {
    out.set(c, p)
    p += c.byteLength
  }
  return out
}

/** The command, validated; throws its refusal. */
export const checked = <C extends Command.Command>(command: C, limits?: Validation.Limits): Validation.Validated<C> => {
  const result = Validation.validate(command, limits)
  if (Validation.isInvalid(result)) throw result
  return result
}

/** The command's bytes; throws its refusal. */
export const encoded = (command: Command.Command, limits?: Validation.Limits): Uint8Array =>
  Encoder.encode(checked(command, limits))

/** The command's bytes as UTF-8 text. */
export const text = (command: Command.Command, limits?: Validation.Limits): string =>
  new TextDecoder("utf-8", { fatal: true }).decode(encoded(command, limits))

/** Checks that a command is valid: it comes back as the very object (validating it allocates nothing). */
export const accepts = (command: Command.Command, limits?: Validation.Limits): void => {
  expect(Validation.validate(command, limits)).toBe(command)
}

/** The refusal of a command that must be refused. */
export const refused = (command: Command.Command, limits?: Validation.Limits): Errors.InvalidInput => {
  const result = Validation.validate(command, limits)
  expect(result).toBeInstanceOf(Errors.InvalidInput)
  if (!Validation.isInvalid(result)) throw new Error("the command was accepted")
  return result
}

/** `it.each` rows titled by the expected bytes (the commands hold bigints, which %j cannot print). */
export const cases = (rows: ReadonlyArray<readonly [Command.Command, string]>): Array<[string, Command.Command]> =>
  rows.map(([command, expected]) => [expected, command])
