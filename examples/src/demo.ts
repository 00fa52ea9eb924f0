/**
 * The demo: a small cache-aside program that prints what it did.
 *
 * It runs against the servers in `MEMCACHE_SERVERS` when that is set; otherwise on the in-memory layer (no
 * memcached needed), or, with `--memcached`, against a memcached it starts itself on a free loopback port
 * (stopped again when the program ends).
 *
 *   npx -y pnpm@12.4.2 demo
 *   npx -y pnpm@12.4.2 demo --memcached
 *   MEMCACHE_SERVERS=127.0.0.1:11211 npx -y pnpm@12.4.2 demo
 */

import * as Net from "node:net"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Memcache, MemcacheClient, MemcacheCluster, MemcacheMemory, Serializer } from "@effect-memcache/client"
import { Config, Console, Duration, Effect, Layer, Option, Schedule, Schema } from "effect"
import { ChildProcess } from "effect/process"

class User extends Schema.Class<User>("User")({
  id: Schema.Number,
  name: Schema.String,
  joined: Schema.Date
}) {}

/** The slow source of truth the cache sits in front of. */
const loadUser = (id: number) =>
  Effect.gen(function* () {
    yield* Effect.sleep("50 millis")
    return new User({ id, name: `user ${id}`, joined: new Date(Date.UTC(2024, 0, id)) })
  })

/** Cache-aside: read the cache, on a miss load and store. */
const getUser = (id: number) =>
  Effect.gen(function* () {
    const users = (yield* Memcache.Memcache).withSerializer(Serializer.json(User))
    const key = `user:${id}`
    const cached = yield* users.get(key)
    if (Option.isSome(cached)) return { user: cached.value, source: "cache" as const }
    const user = yield* loadUser(id)
    yield* users.set(key, user, { ttl: "5 minutes" })
    return { user, source: "database" as const }
  })

const program = Effect.gen(function* () {
  const cache = yield* Memcache.Memcache
  yield* Console.log(`connected to memcached ${yield* cache.version()}`)

  for (const id of [1, 2, 1, 2, 3]) {
    const [elapsed, { user, source }] = yield* Effect.timed(getUser(id))
    yield* Console.log(
      `getUser(${id}) -> ${user.name} (joined ${user.joined.toISOString().slice(0, 10)}) from ${source} in ${Duration.toMillis(elapsed).toFixed(1)} ms`
    )
  }

  yield* cache.set("page:views", 0, { noreply: false })
  yield* Effect.forEach([1, 2, 3, 4, 5], () => cache.incr("page:views", 1), { concurrency: 5 })
  yield* Console.log(`page:views after 5 concurrent incr: ${Option.getOrThrow(yield* cache.get("page:views"))}`)

  const many = yield* cache.withSerializer(Serializer.json(User)).getMany(["user:1", "user:2", "user:3", "user:4"])
  yield* Console.log(`getMany(user:1..4) -> hits ${[...many.keys()].join(", ")} (user:4 was never cached)`)

  const before = yield* cache.gets("page:views")
  if (Option.isSome(before)) {
    const first = yield* cache.cas("page:views", 100, before.value.cas)
    const second = yield* cache.cas("page:views", 200, before.value.cas)
    yield* Console.log(`cas with a fresh unique -> ${first}; with the same (now stale) unique -> ${second}`)
  }

  const bad = yield* Effect.flip(cache.get("no spaces allowed"))
  yield* Console.log(`get("no spaces allowed") -> ${bad._tag}: ${bad.message}`)
})

/** A free loopback port, from the OS. */
const freePort = Effect.callback<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Succeeds once something accepts TCP connections on the loopback `port`. */
const accepts = (port: number) =>
  Effect.callback<void, Error>((resume) => {
    const socket = Net.connect({ port, host: "127.0.0.1" }, () => {
      socket.destroy()
      resume(Effect.void)
    })
    socket.once("error", (error) => resume(Effect.fail(error)))
  })

/** Starts memcached as a child process for the life of the program. */
const localMemcached = Layer.unwrap(
  Effect.gen(function* () {
    const port = yield* freePort
    const args = ["-U", "0", "-l", "127.0.0.1", "-p", String(port)]
    if (process.getuid?.() === 0) args.push("-u", "nobody")
    yield* ChildProcess.make("memcached", args).pipe(
      Effect.mapError(
        (e) => new Error(`could not start memcached (${e.message}); install it: apt-get install -y memcached`)
      )
    )
    yield* Console.log(`--memcached: started memcached on 127.0.0.1:${port}`)
    // Wait until it accepts connections (a plain TCP probe: the client would log each refused attempt).
    yield* accepts(port).pipe(Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo({ times: 250 }))))
    return MemcacheClient.layer({ server: `127.0.0.1:${port}` })
  })
).pipe(Layer.provide(NodeServices.layer))

const inMemory = Layer.unwrap(
  Effect.as(
    Console.log("MEMCACHE_SERVERS is not set: using the in-memory layer (pass --memcached for a real server)"),
    MemcacheMemory.layer()
  )
)

const MemcacheLive = Layer.unwrap(
  Effect.map(
    Config.option(Config.String("MEMCACHE_SERVERS")),
    (servers): Layer.Layer<Memcache.Memcache, unknown> =>
      Option.isSome(servers)
        ? servers.value.includes(",")
          ? MemcacheCluster.layerEnv()
          : MemcacheClient.layerEnv()
        : process.argv.includes("--memcached")
          ? localMemcached
          : inMemory
  )
)

// Output piped into a program that stops reading (`| head`): end as on Ctrl-C, so the finalizers (the
// memcached child process above) still run.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.kill(process.pid, "SIGINT")
})

NodeRuntime.runMain(program.pipe(Effect.provide(MemcacheLive)))
