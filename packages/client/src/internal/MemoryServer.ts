/**
 * A fake memcached 1.6.18: the server side of protocol.md, answering validated `Command` objects with the
 * `Reply` objects the decoder would produce for the real server's bytes. Every command runs synchronously, so
 * one command is atomic with respect to every other (linearizable per key, and across keys).
 *
 * Time is whole unix seconds read from Effect's `Clock` by the caller (so `TestClock` drives expiry).
 *
 * The parts: `MemoryStore` (items, expiry, LRU, memory accounting, the storage modes), `MemoryArithmetic`
 * (incr/decr), `MemoryText` and `MemoryMeta` (the commands), `MemoryLease` (mg's recache win and stale items),
 * `MemoryStats` (counters and `stats`).
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import * as Reply from "@effect-memcache/protocol/Reply"
import * as MemoryMeta from "./MemoryMeta.ts"
import { stats } from "./MemoryStats.ts"
import { MemoryStore } from "./MemoryStore.ts"
import * as MemoryText from "./MemoryText.ts"

/** @internal */
export interface MemoryServerOptions {
  readonly itemSizeMax: number
  /** Bytes; past it the least recently used items are evicted. `undefined`: no limit. */
  readonly memoryLimit: number | undefined
  readonly version: string
}

const SHUTDOWN_DISABLED: Reply.ErrorReply = { _tag: "Error", text: "shutdown not enabled" }

/**
 * The fake server's state and its command interpreter.
 *
 * @internal
 */
export class MemoryServer {
  private readonly store: MemoryStore
  readonly options: MemoryServerOptions

  constructor(options: MemoryServerOptions, startedAt: number) {
    this.options = options
    this.store = new MemoryStore(options.itemSizeMax, options.memoryLimit, startedAt)
  }

  /** Items stored, expired ones not reclaimed yet included (as the server's `curr_items`). */
  get size(): number {
    return this.store.size
  }

  /** Runs one command at `now` (unix milliseconds); `undefined` when it gets no reply. */
  execute(
    command: Command.Command,
    expectation: Reply.Expectation | undefined,
    nowMillis: number
  ): Reply.Reply | undefined {
    const reply = this.run(command, Math.floor(nowMillis / 1000))
    if (expectation === undefined) return undefined
    if (expectation._tag === "Meta" && expectation.quiet && reply._tag === "Meta") {
      return MemoryMeta.quietReply(command, expectation, reply)
    }
    return reply
  }

  private run(command: Command.Command, now: number): Reply.Reply {
    const store = this.store
    switch (command._tag) {
      case "Store":
        return MemoryText.storage(store, command, now)
      case "Cas":
        return MemoryText.cas(store, command, now)
      case "Get":
        return MemoryText.get(store, command, now)
      case "Gat":
        return MemoryText.gat(store, command, now)
      case "Delete":
        return MemoryText.remove(store, command, now)
      case "Arithmetic":
        return MemoryText.incrDecr(store, command, now)
      case "Touch":
        return MemoryText.touch(store, command, now)
      case "Stats":
        return stats(store, this.options.version, command.args, now)
      case "Version":
        return { _tag: "Version", version: this.options.version }
      case "Verbosity":
        return Reply.replies.Ok
      case "FlushAll":
        return MemoryText.flushAll(store, command, now)
      case "CacheMemlimit":
        return MemoryText.cacheMemlimit(store, command)
      case "Quit":
        return Reply.replies.Ok
      case "Shutdown":
        return SHUTDOWN_DISABLED
      case "MetaNoop":
        return MemoryMeta.mn()
      case "MetaDebug":
        return MemoryMeta.me(store, command, now)
      case "MetaGet":
        return MemoryMeta.mg(store, command, now)
      case "MetaSet":
        return MemoryMeta.ms(store, command, now)
      case "MetaDelete":
        return MemoryMeta.md(store, command, now)
      case "MetaArithmetic":
        return MemoryMeta.ma(store, command, now)
    }
  }
}
