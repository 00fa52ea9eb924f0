/**
 * @since 0.1.0
 */

/**
 * Which server of a cluster holds a key: rendezvous (pymemcache), ketama (libmemcached), modula (gomemcache)
 * and custom schemes, as pure functions.
 *
 * @since 0.1.0
 */
export * as Distribution from "./Distribution.ts"
/**
 * The options and outcomes of `getOrCompute`, cache-aside without stampedes: single flight in the process, a
 * meta lease across processes, early recache, serve-stale, and cache outages that never fail the call.
 *
 * @since 0.1.0
 */
export * as GetOrCompute from "./GetOrCompute.ts"
/**
 * The `Memcache` service and its command surface.
 *
 * @since 0.1.0
 */
export * as Memcache from "./Memcache.ts"
/**
 * The single-server layer.
 *
 * @since 0.1.0
 */
export * as MemcacheClient from "./MemcacheClient.ts"
/**
 * The cluster layer: the `Memcache` service over many servers, keys sharded by a `Distribution`, with
 * per-server failure counting, mark-down and probing.
 *
 * @since 0.1.0
 */
export * as MemcacheCluster from "./MemcacheCluster.ts"
/**
 * Every failure a memcache operation can produce.
 *
 * @since 0.1.0
 */
export * as MemcacheError from "./MemcacheError.ts"
/**
 * Effect's `KeyValueStore` on memcached: get/set/remove/has, and `modify` as a compare-and-swap loop; no key
 * listing (memcached has none).
 *
 * @since 0.1.0
 */
export * as MemcacheKeyValueStore from "./MemcacheKeyValueStore.ts"
/**
 * The in-memory layer: the same `Memcache` service over a simulated memcached (expiry by Effect's `Clock`, CAS,
 * incr/decr quirks, item size limit, flush, stats, meta commands), with an optional memory limit (LRU eviction)
 * and injectable faults, for tests.
 *
 * @since 0.1.0
 */
export * as MemcacheMemory from "./MemcacheMemory.ts"
/**
 * The options and results of the meta commands on the `Memcache` service (`metaGet`, `metaSet`, `metaDelete`,
 * `metaArithmetic`): every flag of memcached 1.6, typed, and binary keys.
 *
 * @since 0.1.0
 */
export * as MemcacheMeta from "./MemcacheMeta.ts"
/**
 * Effect's `BackingPersistence` on memcached, so `Persistence.layer` and `PersistedCache` run on it: JSON
 * entries with TTLs, `clear` through a generation counter, long or unusual keys hashed.
 *
 * @since 0.1.0
 */
export * as MemcachePersistence from "./MemcachePersistence.ts"

/**
 * Effect's `RateLimiter` on memcached: a `RateLimiterStore` layer (fixed windows, token buckets, adaptive
 * limiting; exact under concurrency through CAS) over the `Memcache` service.
 *
 * @since 0.1.0
 */
export * as MemcacheRateLimiter from "./MemcacheRateLimiter.ts"
/**
 * Turning values into memcached bytes and flags and back: bytes, UTF-8 text, Schema JSON, pymemcache
 * compatible values, and zlib compression.
 *
 * @since 0.1.0
 */
export * as Serializer from "./Serializer.ts"
