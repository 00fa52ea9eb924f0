import { Command, Meta } from "@effect-memcache/protocol"
import { describe, expect, it } from "vitest"
import { bytes, encoded, latin1 } from "./commands.ts"

describe("verbOf", () => {
  it("names each command by the verb it is sent with", () => {
    const value = bytes("v")
    const verbs: ReadonlyArray<readonly [Command.Command, Command.Verb]> = [
      [Command.get("k"), "get"],
      [Command.gets("k"), "gets"],
      [Command.gat(1, "k"), "gat"],
      [Command.gats(1, "k"), "gats"],
      [Command.set("k", value), "set"],
      [Command.add("k", value), "add"],
      [Command.replace("k", value), "replace"],
      [Command.append("k", value), "append"],
      [Command.prepend("k", value), "prepend"],
      [Command.cas("k", value, 1n), "cas"],
      [Command.delete("k"), "delete"],
      [Command.incr("k", 1n), "incr"],
      [Command.decr("k", 1n), "decr"],
      [Command.touch("k", 1), "touch"],
      [Command.stats(), "stats"],
      [Command.version, "version"],
      [Command.verbosity(1), "verbosity"],
      [Command.flushAll(), "flush_all"],
      [Command.cacheMemlimit(64), "cache_memlimit"],
      [Command.quit, "quit"],
      [Command.shutdown(), "shutdown"],
      [Meta.get("k"), "mg"],
      [Meta.set("k", value), "ms"],
      [Meta.delete("k"), "md"],
      [Meta.arithmetic("k"), "ma"],
      [Meta.debug("k"), "me"],
      [Command.sync, "mn"]
    ]
    for (const [command, verb] of verbs) {
      expect(Command.verbOf(command)).toBe(verb)
      // the verb is what the line starts with
      expect(latin1(encoded(command)).split(/[ \r]/)[0]).toBe(verb)
    }
  })
})

describe("auth", () => {
  it("is a set of the key auth whose value is the username and password", () => {
    const command = Command.auth("app", "pässwörd")
    expect(command).toEqual(Command.set("auth", bytes("app pässwörd"), { flags: 0, exptime: 0, noreply: false }))
    expect(latin1(encoded(command))).toBe(latin1(bytes("set auth 0 0 14\r\napp pässwörd\r\n")))
  })
})
