/**
 * The in-memory server against a real memcached 1.6.18, command for command: meta leases (mg N and R, the `W`
 * `Z` `X` flags) and invalidation (md I, ms I with C). Each scenario runs twice, once on a socket to a memcached
 * child process (commands encoded by `Encoder`, replies parsed by `Decoder`) and once on `MemoryServer.execute`
 * with a clock the test moves, and both transcripts must be equal: codes, values, every flag and the order the
 * flags came in.
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Command, Decoder, Encoder, Meta, Reply, Validation } from "@effect-memcache/protocol"
import { useMemcached } from "../../../testing/Memcached.ts"
import { MemoryServer } from "../src/internal/MemoryServer.ts"

const bytes = (text: string) => new TextEncoder().encode(text)
const latin1 = (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1")

/** One server as a scenario sees it: send commands, let whole seconds pass. */
interface Side {
  readonly send: (...commands: ReadonlyArray<Command.Command>) => Promise<Array<Reply.Reply>>
  readonly wait: (seconds: number) => Promise<void>
}

type Scenario = (side: Side) => Promise<void>

/** A raw connection to the real server: `Encoder.encode` out, `Decoder` in, one batch at a time. */
const openSocket = (port: number): Promise<{ readonly side: Side; readonly close: () => void }> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let pending: { replies: Array<Reply.Reply>; count: number; done: (error?: Error) => void } | undefined
    const decoder = new Decoder.Decoder({
      onReply: (reply) => {
        if (pending === undefined) throw new Error("a reply with no request waiting")
        pending.replies.push(reply)
        if (pending.replies.length === pending.count) pending.done()
      },
      onError: (error) => pending?.done(error)
    })
    socket.on("data", (chunk: Buffer) => decoder.feed(chunk))
    socket.once("error", reject)
    const send = (...commands: ReadonlyArray<Command.Command>) =>
      new Promise<Array<Reply.Reply>>((resolveBatch, rejectBatch) => {
        const replies: Array<Reply.Reply> = []
        for (const command of commands) {
          const checked = Validation.validate(command)
          if (Validation.isInvalid(checked)) return rejectBatch(checked)
          const expectation = Reply.expectation(command)
          if (expectation !== undefined) decoder.expect(expectation)
          socket.write(Encoder.encode(checked))
        }
        const timer = setTimeout(() => pending?.done(new Error("no complete reply within 5 s")), 5000)
        pending = {
          replies,
          count: commands.filter((command) => Reply.expectation(command) !== undefined).length,
          done: (error) => {
            clearTimeout(timer)
            pending = undefined
            if (error === undefined) resolveBatch(replies)
            else rejectBatch(error)
          }
        }
      })
    const wait = (seconds: number) => new Promise<void>((done) => setTimeout(done, seconds * 1000))
    socket.once("connect", () => resolve({ side: { send, wait }, close: () => socket.destroy() }))
  })

/** The in-memory server on a clock that only the scenario moves. */
const memorySide = (): Side => {
  const server = new MemoryServer({ itemSizeMax: 1048576, memoryLimit: undefined, version: "1.6.18" }, 1_700_000_000)
  let now = 1_700_000_000_250
  return {
    send: async (...commands) => {
      const replies: Array<Reply.Reply> = []
      for (const command of commands) {
        const reply = server.execute(command, Reply.expectation(command), now)
        if (reply !== undefined) replies.push(reply)
      }
      return replies
    },
    wait: async (seconds) => {
      now += seconds * 1000
    }
  }
}

/**
 * A reply as the transcripts compare it: values as text, each CAS unique as the order it first appeared in
 * (the two servers number items alike, but a real server may spend uniques elsewhere), and the flags' names in
 * the order they came (the decoder keeps the wire order; `key` is decoded last, so it is left out of the order).
 */
const transcriptOf = (replies: ReadonlyArray<Reply.Reply>): Array<unknown> => {
  const uniques: Array<bigint> = []
  const unique = (cas: bigint) => {
    if (!uniques.includes(cas)) uniques.push(cas)
    return `cas#${uniques.indexOf(cas)}`
  }
  return replies.map((reply) => {
    switch (reply._tag) {
      case "Meta": {
        const { cas, ...flags } = reply.flags
        return {
          code: reply.code,
          flags: { ...flags, ...(cas === undefined ? {} : { cas: unique(cas) }) },
          order: Object.keys(reply.flags).filter((name) => name !== "key"),
          value: reply.value === undefined ? undefined : latin1(reply.value)
        }
      }
      case "MetaDebug":
        return { ...reply, fields: { ...reply.fields, cas: unique(BigInt(reply.fields.cas ?? "0")) } }
      case "Values":
        return reply.values.map((v) => ({ ...v, value: latin1(v.value), cas: v.cas && unique(v.cas) }))
      default:
        return reply
    }
  })
}

/** Records every reply a scenario got. */
const recording = (side: Side): [Side, Array<Reply.Reply>] => {
  const replies: Array<Reply.Reply> = []
  return [
    {
      send: async (...commands) => {
        const got = await side.send(...commands)
        replies.push(...got)
        return got
      },
      wait: side.wait
    },
    replies
  ]
}

const memcached = useMemcached()

/**
 * memcached's clock ticks once a second at its own phase: wait for a tick (the TTL of a probe item drops), then
 * a quarter second more, so a scenario's commands and whole-second waits all land well inside one tick.
 */
const alignToTick = async (side: Side) => {
  const ttl = async () => {
    const [reply] = await side.send(Meta.get("tick", { ttl: true }))
    return reply?._tag === "Meta" ? reply.flags.ttl : undefined
  }
  await side.send(Meta.set("tick", bytes("t"), { ttl: 1000 }))
  const start = await ttl()
  while ((await ttl()) === start) await new Promise((done) => setTimeout(done, 10))
  await new Promise((done) => setTimeout(done, 250))
}

/** Runs a scenario on both servers and checks that they answered alike. */
const differential = async (scenario: Scenario) => {
  const socket = await openSocket(memcached().port)
  try {
    await socket.side.send(Command.flushAll())
    await alignToTick(socket.side)
    const [real, realReplies] = recording(socket.side)
    await scenario(real)
    const fake = memorySide()
    // The real server's probe item took the first CAS unique; so does this one, so no scenario item has unique 1.
    await fake.send(Meta.set("tick", bytes("t"), { ttl: 1000 }))
    const [memory, memoryReplies] = recording(fake)
    await scenario(memory)
    expect(transcriptOf(memoryReplies)).toEqual(transcriptOf(realReplies))
    expect(realReplies.length).toBeGreaterThan(0)
  } finally {
    socket.close()
  }
}

const casOf = (reply: Reply.Reply | undefined): bigint => {
  if (reply?._tag !== "Meta" || reply.flags.cas === undefined) throw new Error("expected a meta reply with c")
  return reply.flags.cas
}

describe("MemoryServer leases and invalidation, against memcached 1.6.18", () => {
  it("mg N on a miss creates an empty item and hands out W; later fetches see Z", () =>
    differential(async (side) => {
      await side.send(Meta.get("bare", { vivify: 30 }))
      await side.send(Meta.get("full", { value: true, ttl: true, cas: true, vivify: 30 }))
      await side.send(
        Meta.get("every", {
          value: true,
          size: true,
          clientFlags: true,
          ttl: true,
          cas: true,
          returnKey: true,
          hit: true,
          lastAccess: true,
          opaque: "o1",
          vivify: 30
        })
      )
      // The lease is out: the empty item answers Z, with its real TTL now, and a hit after the bump.
      await side.send(Meta.get("bare", { value: true, ttl: true, cas: true, vivify: 30 }))
      await side.send(Meta.get("bare", { size: true, hit: true, lastAccess: true, returnKey: true }))
      await side.send(Meta.get("every", { value: true, hit: true }))
      // u: no bump, so the vivified item is still unfetched.
      await side.send(Meta.get("nobump", { noBump: true, vivify: 30 }))
      await side.send(Meta.get("nobump", { hit: true }))
      // T and N together: the item is created with N's TTL; on a hit T applies and N does not.
      await side.send(Meta.get("touched", { ttl: true, touch: 60, vivify: 30 }))
      await side.send(Meta.get("touched", { ttl: true }))
      await side.send(Meta.get("touched", { ttl: true, touch: 90, vivify: 10 }))
      await side.send(Meta.get("touched", { ttl: true }))
      // The text commands see an empty item.
      await side.send(Command.gets("bare"))
      await side.send(Meta.debug("bare"))
      await side.send(Meta.get("never", { ttl: true, vivify: 0 }))
      await side.send(Meta.get("never", { ttl: true }))
    }))

  it("mg q with N: the created item and its W come back; a plain quiet miss is suppressed", () =>
    differential(async (side) => {
      await side.send(Meta.get("q1", { quiet: true, opaque: "a", vivify: 30 }), Meta.noop)
      await side.send(Meta.get("q1", { value: true, quiet: true, opaque: "b" }), Meta.noop)
      await side.send(Meta.get("q2", { value: true, quiet: true, opaque: "c", returnKey: true, vivify: 30 }), Meta.noop)
      await side.send(Meta.get("q3", { value: true, quiet: true, opaque: "d" }), Meta.noop)
      await side.send(Meta.get("q3", { returnKey: true, opaque: "e", quiet: true, vivify: 30 }), Meta.noop)
    }))

  it("a store by the winner clears the lease: no W or Z after it", () =>
    differential(async (side) => {
      const [won] = await side.send(Meta.get("lease", { cas: true, vivify: 30 }))
      await side.send(Meta.get("lease", { cas: true, vivify: 30 }))
      await side.send(Meta.set("lease", bytes("fresh"), { compareCas: casOf(won), returnCas: true, ttl: 100 }))
      await side.send(Meta.get("lease", { value: true, cas: true, ttl: true, vivify: 30 }))
      await side.send(Meta.get("lease", { value: true, vivify: 30 }))
      // A plain set, and an append, also replace a leased item.
      await side.send(Meta.get("plain", { vivify: 30 }))
      await side.send(Meta.set("plain", bytes("p")))
      await side.send(Meta.get("plain", { value: true, cas: true }))
      await side.send(Meta.get("appended", { vivify: 30 }))
      await side.send(Meta.set("appended", bytes("a"), { mode: "append" }))
      await side.send(Meta.get("appended", { value: true, cas: true }))
      // A store with the wrong CAS leaves the lease in place.
      await side.send(Meta.set("lease2", bytes("x"), { compareCas: 1n }))
      await side.send(Meta.get("lease2", { vivify: 30 }))
      await side.send(Meta.set("lease2", bytes("x"), { compareCas: 999_999n }))
      await side.send(Meta.get("lease2", { value: true }))
    }))

  it("the lease expires with its N TTL, and the next N wins again; R wins as the TTL runs down", () =>
    differential(async (side) => {
      await side.send(Meta.get("lease", { ttl: true, vivify: 1 }))
      await side.send(Meta.get("lease", { ttl: true, vivify: 1 }))
      await side.send(Meta.set("near", bytes("n"), { ttl: 3 }))
      await side.send(Meta.get("near", { ttl: true, recache: 2 }))
      await side.wait(1)
      await side.send(Meta.get("lease", { value: true }))
      await side.send(Meta.get("lease", { ttl: true, cas: true, vivify: 1 }))
      await side.send(Meta.get("lease", { vivify: 1 }))
      await side.send(Meta.get("near", { ttl: true, recache: 2 }))
      await side.wait(1)
      await side.send(Meta.get("near", { ttl: true, recache: 2 }))
      await side.send(Meta.get("near", { ttl: true, recache: 2 }))
      await side.send(Meta.get("lease", { vivify: 5 }))
    }))

  it("mg R: W once when the remaining TTL is below the token, then Z; never for an item without a TTL", () =>
    differential(async (side) => {
      await side.send(Meta.set("r", bytes("x"), { ttl: 20 }))
      await side.send(Meta.get("r", { value: true, recache: 10 }))
      await side.send(Meta.get("r", { value: true, ttl: true, recache: 30 }))
      await side.send(Meta.get("r", { value: true, ttl: true, recache: 30 }))
      await side.send(Meta.get("r", { recache: 10 }))
      await side.send(Meta.get("r", { value: true }))
      await side.send(Meta.set("same", bytes("x"), { ttl: 20 }))
      await side.send(Meta.get("same", { recache: 20 }))
      await side.send(Meta.get("same", { recache: 21, quiet: true, opaque: "q" }), Meta.noop)
      await side.send(Meta.get("same", { recache: 21, quiet: true, opaque: "q" }), Meta.noop)
      await side.send(Meta.set("forever", bytes("x")))
      await side.send(Meta.get("forever", { recache: 30 }))
      await side.send(Meta.get("forever", { recache: 0 }))
      await side.send(Meta.set("touchr", bytes("x"), { ttl: 100 }))
      await side.send(Meta.get("touchr", { ttl: true, touch: 5, recache: 10 }))
      // A new value ends the lease.
      await side.send(Meta.set("r", bytes("y"), { ttl: 5 }))
      await side.send(Meta.get("r", { value: true, recache: 10 }))
    }))

  it("md I marks the item stale and bumps its CAS: W X once, then Z X; T sets the TTL", () =>
    differential(async (side) => {
      await side.send(Meta.set("inv", bytes("old"), { ttl: 100 }))
      await side.send(Meta.get("inv", { cas: true }))
      await side.send(Meta.delete("inv", { invalidate: true }))
      await side.send(Meta.get("inv", { value: true, cas: true, ttl: true }))
      await side.send(Meta.get("inv", { value: true, cas: true, ttl: true }))
      await side.send(Meta.get("inv", { value: true, recache: 1000, vivify: 30 }))
      // Invalidating again clears the win: the next fetch wins again.
      await side.send(Meta.delete("inv", { invalidate: true, ttl: 30 }))
      await side.send(Meta.get("inv", { cas: true, ttl: true }))
      await side.send(Meta.get("inv", { cas: true, ttl: true }))
      await side.send(Meta.debug("inv"))
      await side.send(Command.get("inv"))
      await side.send(Meta.delete("inv", { invalidate: true, ttl: 0 }))
      await side.send(Meta.get("inv", { ttl: true }))
      // A fresh value clears stale and win.
      await side.send(Meta.set("inv", bytes("new")))
      await side.send(Meta.get("inv", { value: true, cas: true }))
      // md I with a CAS: a mismatch is EX (also with q), a match marks; quiet success is suppressed.
      const [got] = await side.send(Meta.get("inv", { cas: true }))
      await side.send(Meta.delete("inv", { invalidate: true, compareCas: 1n }))
      await side.send(
        Meta.delete("inv", { invalidate: true, compareCas: 1n, returnKey: true, opaque: "x", quiet: true }),
        Meta.noop
      )
      await side.send(
        Meta.delete("inv", { invalidate: true, compareCas: casOf(got), quiet: true, opaque: "y" }),
        Meta.noop
      )
      await side.send(Meta.get("inv", { cas: true }))
      // A negative T expires it at once.
      await side.send(Meta.delete("inv", { invalidate: true, ttl: -1 }))
      await side.send(Meta.get("inv", { ttl: true }))
      await side.send(Meta.get("inv", { ttl: true, vivify: 30 }))
      // A plain md deletes a stale item.
      await side.send(Meta.delete("inv", { invalidate: true }))
      await side.send(Meta.delete("inv"))
      await side.send(Meta.get("inv"))
    }))

  it("md I on a missing key is NF", () =>
    differential(async (side) => {
      await side.send(Meta.delete("missing", { invalidate: true }))
      await side.send(Meta.delete("missing", { invalidate: true, ttl: 30, returnKey: true, opaque: "a" }))
      await side.send(Meta.delete("missing", { invalidate: true, quiet: true, opaque: "b" }), Meta.noop)
      await side.send(Meta.get("missing"))
    }))

  it("ms I with a lower C stores the value stale, keeping the TTL and the win; C equal clears it", () =>
    differential(async (side) => {
      const [first] = await side.send(Meta.set("s", bytes("v1"), { ttl: 100, returnCas: true }))
      const cas1 = casOf(first)
      await side.send(Meta.set("s", bytes("v2"), { compareCas: cas1 - 1n, invalidate: true, ttl: 5, returnCas: true }))
      await side.send(Meta.get("s", { value: true, cas: true, ttl: true }))
      const [stale] = await side.send(Meta.get("s", { value: true, cas: true, ttl: true }))
      await side.send(Meta.set("s", bytes("v3"), { compareCas: casOf(stale) - 1n, invalidate: true }))
      await side.send(Meta.get("s", { value: true, ttl: true }))
      await side.send(Meta.set("s", bytes("v4"), { compareCas: casOf(stale) + 1000n, invalidate: true }))
      await side.send(Meta.set("s", bytes("v4"), { compareCas: casOf(stale) - 1n }))
      const [current] = await side.send(Meta.get("s", { cas: true }))
      await side.send(Meta.set("s", bytes("v5"), { compareCas: casOf(current), invalidate: true, ttl: 50 }))
      await side.send(Meta.get("s", { value: true, ttl: true }))
      // I without C is a plain set.
      await side.send(Meta.set("s", bytes("v6"), { compareCas: 1n, invalidate: true }))
      await side.send(Meta.set("s", bytes("v7"), { invalidate: true }))
      await side.send(Meta.get("s", { value: true }))
      // The other modes with C and I: add is NS, append/prepend EX, replace stores stale.
      await side.send(Meta.set("s", bytes("a"), { compareCas: 1n, invalidate: true, mode: "add" }))
      await side.send(Meta.set("s", bytes("a"), { compareCas: 1n, invalidate: true, mode: "append" }))
      await side.send(Meta.set("s", bytes("a"), { compareCas: 1n, invalidate: true, mode: "prepend" }))
      await side.send(Meta.set("s", bytes("r"), { compareCas: 1n, invalidate: true, mode: "replace" }))
      await side.send(Meta.get("s", { value: true }))
      // With C on a missing key: add stores, append is NS, set and replace are NF.
      await side.send(Meta.set("n1", bytes("x"), { compareCas: 5n, mode: "add" }))
      await side.send(Meta.get("n1", { value: true }))
      await side.send(Meta.set("n2", bytes("x"), { compareCas: 5n, mode: "append" }))
      await side.send(Meta.set("n2", bytes("x"), { compareCas: 5n, mode: "replace" }))
      await side.send(Meta.set("n2", bytes("x"), { compareCas: 5n, invalidate: true }))
      // ms I with a lower C on a leased (vivified) item keeps the lease: Z X.
      const [leased] = await side.send(Meta.get("v", { cas: true, vivify: 30 }))
      await side.send(Meta.set("v", bytes("late"), { compareCas: casOf(leased) - 1n, invalidate: true }))
      await side.send(Meta.get("v", { value: true, cas: true, ttl: true }))
    }))

  it("ma on a stale item: in place it stays stale, a longer number makes a fresh item", () =>
    differential(async (side) => {
      await side.send(Meta.set("n", bytes("10")))
      await side.send(Meta.delete("n", { invalidate: true }))
      await side.send(Meta.get("n", { cas: true }))
      await side.send(Meta.arithmetic("n", { returnValue: true, returnCas: true }))
      await side.send(Meta.get("n", { value: true, cas: true }))
      await side.send(Meta.arithmetic("n", { returnValue: true, delta: 100n }))
      await side.send(Meta.get("n", { value: true, cas: true }))
      await side.send(Meta.get("c", { vivify: 30 }))
      await side.send(Meta.arithmetic("c", { returnValue: true }))
      await side.send(Meta.get("u", { noBump: true }))
      await side.send(Meta.set("u", bytes("1")))
      await side.send(Meta.get("u", { noBump: true }))
      await side.send(Meta.get("u", { hit: true }))
    }))
})
