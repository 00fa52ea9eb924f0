/**
 * memjs (binary protocol) as a {@link PromiseDriver}. memjs has no multi-get: `getMany` is the user's way, one
 * `get` per key, all at once.
 *
 * @since 0.1.0
 */

import memjs from "memjs"
import type { PromiseDriver } from "./PromiseRunner.ts"

/**
 * A memjs client on the servers (its own key hashing when several), with its defaults (one connection per server,
 * 0.5 s timeout) except retries, which would hide failures.
 *
 * @example
 * ```ts
 * import { make } from "./MemjsDriver.ts"
 * const driver = make([11211])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (ports: ReadonlyArray<number>): PromiseDriver => {
  const client = memjs.Client.create(ports.map((port) => `127.0.0.1:${port}`).join(","), {
    retries: 0,
    logger: { log: () => {} }
  })
  const get = (key: string) => client.get(key).then((r) => r.value)
  return {
    get,
    set: (key, value) => client.set(key, value, {}),
    getMany: (keys) =>
      Promise.all(keys.map(get)).then((values) => {
        const byKey = new Map<string, unknown>()
        for (let i = 0; i < keys.length; i++) byKey.set(keys[i]!, values[i])
        return (key: string) => byKey.get(key)
      }),
    close: () => client.close()
  }
}
