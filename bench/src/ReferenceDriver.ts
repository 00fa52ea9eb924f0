/**
 * The reference client ({@link RawClient}) as a {@link PromiseDriver}: one connection per server, keys routed by
 * an FNV-1a hash modulo the server count, a multi-get split into one request per server.
 *
 * @since 0.1.0
 */

import type { PromiseDriver } from "./PromiseRunner.ts"
import { promised, RawClient } from "./RawClient.ts"

/** FNV-1a over the key's UTF-16 code units (keys here are ASCII). */
const hash = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The reference client on one connection to each server; with `meta`, its multi-gets in the meta protocol
 * (`reference-meta`, one server).
 *
 * @example
 * ```ts
 * import { make } from "./ReferenceDriver.ts"
 * const driver = await make([11211])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = async (ports: ReadonlyArray<number>, meta = false): Promise<PromiseDriver> => {
  const servers = await Promise.all(ports.map(async (port) => promised(await RawClient.connect(port))))
  if (servers.length === 1) {
    const client = servers[0]!
    const getMany = meta ? client.getManyMeta : client.getMany
    return {
      get: client.get,
      set: client.set,
      getMany: (keys) => getMany(keys).then((hits) => (key: string) => hits.get(key)),
      close: client.close
    }
  }
  const serverOf = (key: string) => servers[hash(key) % servers.length]!
  return {
    get: (key) => serverOf(key).get(key),
    set: (key, value, noreply) => serverOf(key).set(key, value, noreply),
    getMany: (keys) => {
      const groups = servers.map((): Array<string> => [])
      for (const key of keys) groups[hash(key) % servers.length]!.push(key)
      return Promise.all(
        groups.map((group, i) => (group.length === 0 ? new Map<string, Buffer>() : servers[i]!.getMany(group)))
      ).then((parts) => (key: string) => parts[hash(key) % servers.length]!.get(key))
    },
    close: () => {
      for (const server of servers) server.close()
    }
  }
}
