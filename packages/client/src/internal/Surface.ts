/**
 * The command surface: the `Memcache` service's methods over a backend, written once for every layer. It is
 * assembled from its parts — retrieval, storage, keyed and admin commands — over one record of settings; a
 * typed view (`withSerializer`) rebuilds only the parts that read or write values.
 *
 * @internal
 */
import type { MemcacheShape, SurfaceOptions, Value } from "../Memcache.ts"
import * as Serializer from "../Serializer.ts"
import * as Admin from "./Admin.ts"
import type { Background } from "./Background.ts"
import * as CacheAside from "./CacheAside.ts"
import * as Keyed from "./Keyed.ts"
import * as MetaCalls from "./MetaCalls.ts"
import * as ProxyRules from "./ProxyRules.ts"
import * as Retrieval from "./Retrieval.ts"
import * as Settings from "./Settings.ts"
import * as Storage from "./Storage.ts"
import type { Backend } from "./Transport.ts"

/**
 * The service over a backend. Every layer builds it this way; the in-memory layer's backend is a simulated
 * server, so its calls go through exactly the same checks. `proxy` (single-server layer only) refuses what the
 * proxy in front of the server does not forward.
 */
export const make = (
  backend: Backend,
  options: SurfaceOptions,
  background: Background,
  proxy: ProxyRules.Rules = ProxyRules.direct
): MemcacheShape<Value> => {
  const settings = Settings.make(backend, options, proxy)
  const shared = { ...Keyed.make(settings), ...Admin.make(settings), noreplyFailures: background.noreplyFailures }
  const view = <A>(serializer: Serializer.Serializer<A>): MemcacheShape<A> => {
    const retrieval = Retrieval.make(settings, serializer)
    const storage = Storage.make(settings, serializer)
    return {
      ...retrieval,
      ...storage,
      ...MetaCalls.make(settings, serializer),
      ...CacheAside.make(settings, serializer, { get: retrieval.get, set: storage.set }),
      ...shared,
      withSerializer: view
    }
  }
  return view(options.serializer ?? Serializer.pymemcache)
}
