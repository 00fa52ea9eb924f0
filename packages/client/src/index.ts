/**
 * @since 0.1.0
 */

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
 * Every failure a memcache operation can produce.
 *
 * @since 0.1.0
 */
export * as MemcacheError from "./MemcacheError.ts"
/**
 * Turning values into memcached bytes and flags and back: bytes, UTF-8 text, Schema JSON, pymemcache
 * compatible values, and zlib compression.
 *
 * @since 0.1.0
 */
export * as Serializer from "./Serializer.ts"
