/**
 * Command injection: every key memcached must not see (protocol.md §2 and §8) is refused by every keyed call with
 * a MemcacheIllegalInputError before a single byte reaches the socket, so a key such as "a\r\nflush_all" can
 * never run a command. Counted by the fault proxy between client and server; a sentinel item proves the server
 * was not touched. In the meta protocol the keys with a space or a control byte are sent base64 instead
 * (`MetaMode.test.ts`); the others are refused as in text.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Memcache, MemcacheClient } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import type { FaultProxy } from "../../../testing/FaultProxy.ts"
import { rawCommand, useMemcached } from "../../../testing/Memcached.ts"
import { acquireProxy } from "../../../testing/Scoped.ts"

type Client = Memcache.MemcacheShape<Memcache.Value>

const BAD_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["space", " leading"],
  ["CR", "a\rb"],
  ["LF", "a\nb"],
  ["TAB", "a\tb"],
  ["NUL", "a\u0000b"],
  ["DEL (0x7F)", "a\u007fb"],
  ["251 bytes", "k".repeat(251)],
  ["126 x é (252 bytes)", "é".repeat(126)],
  ["CRLF + command", "a\r\nflush_all"],
  ["a b", "a b"],
  ["empty", ""],
  ["a space and 187 bytes", `a ${"b".repeat(185)}`]
]

/**
 * The keys still refused in the meta protocol, which sends a key with a space or a control byte base64 (up to 186
 * bytes): the rest go to the item of their bytes (`MetaMode.test.ts`).
 */
const refusedInMeta = new Set(["251 bytes", "126 x é (252 bytes)", "empty", "a space and 187 bytes"])

/** Every keyed call, with the bad key in the position a caller would put it. */
const CALLS: ReadonlyArray<readonly [string, (m: Client, key: string) => Effect.Effect<unknown, { _tag: string }>]> = [
  ["get", (m, k) => m.get(k)],
  ["gets", (m, k) => m.gets(k)],
  ["gat", (m, k) => m.gat(k, "1 minute")],
  ["gats", (m, k) => m.gats(k, "1 minute")],
  ["getMany", (m, k) => m.getMany(["good:1", k, "good:2"])],
  ["getsMany", (m, k) => m.getsMany([k, "good:1"])],
  ["set (noreply)", (m, k) => m.set(k, "v")],
  ["set", (m, k) => m.set(k, "v", { noreply: false })],
  ["add", (m, k) => m.add(k, "v", { noreply: false })],
  ["replace", (m, k) => m.replace(k, "v")],
  ["append", (m, k) => m.append(k, "v")],
  ["prepend", (m, k) => m.prepend(k, "v")],
  ["cas", (m, k) => m.cas(k, "v", 1n)],
  [
    "setMany",
    (m, k) =>
      m.setMany([
        ["good:1", "v"],
        [k, "v"],
        ["good:2", "v"]
      ])
  ],
  [
    "setMany (acknowledged)",
    (m, k) =>
      m.setMany(
        [
          ["good:1", "v"],
          [k, "v"]
        ],
        { noreply: false }
      )
  ],
  ["delete", (m, k) => m.delete(k)],
  ["delete (acknowledged)", (m, k) => m.delete(k, { noreply: false })],
  ["deleteMany", (m, k) => m.deleteMany(["good:1", k])],
  ["incr", (m, k) => m.incr(k, 1)],
  ["decr", (m, k) => m.decr(k, 1)],
  ["touch", (m, k) => m.touch(k, "1 minute")],
  ["touch (acknowledged)", (m, k) => m.touch(k, "1 minute", { noreply: false })]
]

const SENTINEL = "injection:sentinel"

/** The call fails with MemcacheIllegalInputError about the key, and the proxy saw nothing. */
const refusedBeforeSending = (proxy: FaultProxy, what: string, call: Effect.Effect<unknown, { _tag: string }>) =>
  Effect.gen(function* () {
    proxy.resetCounters()
    const e = yield* Effect.flip(
      Effect.flatMap(call, (a) => Effect.die(new Error(`${what}: expected a refusal, got ${String(a)}`)))
    )
    expect(e, what).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "key" })
    expect(proxy.bytesFromClient, `${what}: bytes that reached the socket`).toBe(0)
    expect(proxy.acceptedConnections, `${what}: connections opened`).toBe(0)
  })

describe("injection", () => {
  const server = useMemcached()

  for (const protocol of ["text", "meta"] as const) {
    it.live(`every bad key is refused by every keyed call, before any byte is sent (${protocol} protocol)`, () =>
      Effect.gen(function* () {
        yield* Effect.promise(() => rawCommand(server(), `set ${SENTINEL} 0 0 5\r\nalive\r\n`))
        for (const [name, key] of BAD_KEYS) {
          if (protocol === "meta" && !refusedInMeta.has(name)) continue
          const proxy = yield* acquireProxy(server())

          // A fresh client for each call: it has no connection, and a refused call must not open one.
          for (const [callName, call] of CALLS) {
            yield* Effect.scoped(
              Effect.gen(function* () {
                const m = yield* MemcacheClient.make({ server: proxy.address, protocol })
                yield* refusedBeforeSending(proxy, `${callName}(${name}) on a new client`, call(m, key))
                // The same client does send a good request through this proxy: the zero above was not vacuous.
                expect(yield* m.get("good:1")).toEqual(Option.none())
                expect(proxy.bytesFromClient).toBeGreaterThan(0)
              })
            )
          }

          // A connected client: the refused calls add nothing to the open connection either.
          yield* Effect.scoped(
            Effect.gen(function* () {
              const m = yield* MemcacheClient.make({ server: proxy.address, protocol })
              yield* m.version()
              for (const [callName, call] of CALLS) {
                yield* refusedBeforeSending(proxy, `${callName}(${name}) on a connected client`, call(m, key))
              }
              expect(yield* m.version()).toMatch(/^1\./)
            })
          )
        }
        // The server was never touched: the sentinel survived every "a\r\nflush_all".
        const reply = yield* Effect.promise(() =>
          rawCommand(server(), `get ${SENTINEL}\r\n`, { until: (b) => b.toString("latin1").endsWith("END\r\n") })
        )
        expect(reply.toString("latin1")).toBe(`VALUE ${SENTINEL} 0 5\r\nalive\r\nEND\r\n`)
      })
    )
  }

  it.live("the key prefix counts: a key that is fine alone but too long with the prefix is refused", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address, keyPrefix: "app:" })
      yield* refusedBeforeSending(proxy, "get", m.get("k".repeat(247)))
      yield* refusedBeforeSending(proxy, "set", m.set("k".repeat(247), "v", { noreply: false }))
      yield* refusedBeforeSending(proxy, "getMany", m.getMany(["ok", "k".repeat(247)]))
      // 246 + 4 = 250 bytes: accepted, and stored under the prefixed key.
      expect(yield* m.set("k".repeat(246), "v", { noreply: false })).toBe(true)
      const reply = yield* Effect.promise(() =>
        rawCommand(server(), `get app:${"k".repeat(246)}\r\n`, {
          until: (b) => b.toString("latin1").endsWith("END\r\n")
        })
      )
      expect(reply.toString("latin1")).toContain(`VALUE app:${"k".repeat(246)} 16 1\r\nv\r\n`)
    })
  )
})
