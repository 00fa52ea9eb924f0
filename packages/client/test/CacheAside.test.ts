/**
 * The MemcacheError predicates, error class by error class.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheError } from "@effect-memcache/client"

describe("the MemcacheError predicates", () => {
  const transport = [
    new MemcacheError.MemcacheTimeoutError({ server: "s", phase: "operation", millis: 1 }),
    new MemcacheError.MemcacheConnectionError({ server: "s", reason: "refused", detail: "" }),
    new MemcacheError.MemcacheUnexpectedCloseError({ server: "s" }),
    new MemcacheError.MemcacheProtocolError({ server: "s", reason: "r" })
  ]
  const replies = [
    new MemcacheError.MemcacheUnknownCommandError({ command: "c", server: "s", text: "" }),
    new MemcacheError.MemcacheClientError({ command: "c", server: "s", text: "t" }),
    new MemcacheError.MemcacheServerError({ command: "c", server: "s", text: "t" })
  ]
  const others = [
    new MemcacheError.MemcacheIllegalInputError({ command: "c", field: "key", reason: "r" }),
    new MemcacheError.MemcacheSerializationError({ key: "k", reason: "r" })
  ]
  const groups = (u: unknown) => ({
    transport: MemcacheError.isTransportError(u),
    reply: MemcacheError.isReplyError(u),
    memcache: MemcacheError.isMemcacheError(u)
  })

  it("each error class is in its group and no other; every one is a MemcacheError", () => {
    for (const e of transport) expect(groups(e), e._tag).toEqual({ transport: true, reply: false, memcache: true })
    for (const e of replies) expect(groups(e), e._tag).toEqual({ transport: false, reply: true, memcache: true })
    for (const e of others) expect(groups(e), e._tag).toEqual({ transport: false, reply: false, memcache: true })
  })

  it("anything else is in none: other errors, other tags, a tag alone, an inherited property name", () => {
    const none = { transport: false, reply: false, memcache: false }
    for (const u of [
      undefined,
      null,
      "MemcacheTimeoutError",
      new Error("MemcacheTimeoutError"),
      { _tag: "NoSuchElementError" },
      { _tag: 1 },
      { _tag: "toString" },
      { _tag: "__proto__" }
    ])
      expect(groups(u), String(u)).toEqual(none)
  })
})
