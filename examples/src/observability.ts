/**
 * Observability: the client's spans and metrics exported by OTLP (to an OpenTelemetry collector), and its
 * metrics printed in Prometheus' text format at the end.
 *
 * It runs against `MEMCACHE_SERVERS` (default `127.0.0.1:11211`) and exports to `OTLP_URL` (default
 * `http://localhost:4318`, a collector's OTLP/HTTP port):
 *
 *   npx tsc -b tsconfig.json && node examples/dist/observability.js
 */

import { NodeRuntime } from "@effect/platform-node"
import { Memcache, MemcacheCluster } from "@effect-memcache/client"
import { Config, Console, Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { Otlp, PrometheusMetrics } from "effect/observability"

/** The client, with its metrics on (spans are on by default and made once a tracer is installed). */
const MemcacheLive = Layer.unwrap(
  Effect.gen(function* () {
    const servers = yield* Config.String("MEMCACHE_SERVERS").pipe(Config.withDefault("127.0.0.1:11211"))
    return MemcacheCluster.layer({ servers: servers.split(","), metrics: true })
  })
)

/** The OTLP exporter: installs a tracer (so the client makes spans) and exports the metrics registry. */
const OtlpLive = Layer.unwrap(
  Effect.gen(function* () {
    const baseUrl = yield* Config.String("OTLP_URL").pipe(Config.withDefault("http://localhost:4318"))
    return Otlp.layerJson({ baseUrl, resource: { serviceName: "memcache-example" } })
  })
).pipe(Layer.provide(FetchHttpClient.layer))

const program = Effect.gen(function* () {
  const memcache = yield* Memcache.Memcache
  yield* memcache.set("example:greeting", "hello", { noreply: false })
  yield* memcache.get("example:greeting")
  yield* memcache.get("example:missing")
  yield* memcache.getMany(["example:greeting", "example:other"])
  // What a Prometheus scrape of this process would read.
  yield* Console.log(yield* PrometheusMetrics.format())
}).pipe(Effect.withSpan("example"))

program.pipe(Effect.provide(Layer.merge(MemcacheLive, OtlpLive)), NodeRuntime.runMain)
