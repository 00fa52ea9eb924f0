/**
 * Which server of a cluster holds a key: pure routing schemes, each byte-compatible with the client it is
 * named after, so that this client and others sharing one memcached fleet read and write the same servers.
 *
 * - {@link rendezvous} (the default): pymemcache's `HashClient`.
 * - {@link ketama}: libketama / libmemcached `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` (also node-hashring with
 *   `compatibility: "ketama"`), with server weights.
 * - {@link modula}: gomemcache's `crc32 % n`.
 * - {@link custom}: any function of the key and the servers.
 *
 * A scheme sees servers as {@link Node}s: the host and port other clients configure (`hashAs` in the cluster
 * layer when they differ from the address this client connects to) and a weight.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import * as Crc32 from "./internal/Crc32.ts"
import * as Murmur3 from "./internal/Murmur3.ts"

/**
 * A server as a routing scheme sees it.
 *
 * @example
 * ```ts
 * import type { Distribution } from "@effect-memcache/client"
 * const node: Distribution.Node = { host: "10.0.0.1", port: 11211, weight: 2 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Node {
  /** The host as other clients configure it (an IPv6 address without brackets), or a unix socket path. */
  readonly host: string
  /** The TCP port; `undefined` for a unix socket. */
  readonly port?: number | undefined
  /** The relative weight, a positive integer; only {@link ketama} uses it. Default 1. */
  readonly weight?: number | undefined
}

/**
 * The server of a key, as an index into the nodes the router was made for.
 *
 * @example
 * ```ts
 * import type { Distribution } from "@effect-memcache/client"
 * const first: Distribution.Router = () => 0
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Router = (key: string) => number

/**
 * A routing scheme: from a list of servers (order matters for some schemes), a {@link Router}. The cluster
 * makes one router for the whole list, and another per set of live servers when dead servers leave the ring.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * const route = Distribution.ketama.make([{ host: "10.0.0.1", port: 11211 }, { host: "10.0.0.2", port: 11211 }])
 * route("user:1") // 0 or 1
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Distribution {
  /** The scheme's name (`"ketama"`, `"rendezvous"`, `"modula"`), as errors print it. */
  readonly name: string
  /** Whether the scheme uses {@link Node.weight}. The cluster refuses weights a scheme would ignore. */
  readonly weighted: boolean
  /** The router for `nodes`: which of them holds a key. */
  readonly make: (nodes: ReadonlyArray<Node>) => Router
}

// ---- scratch buffers: routing runs for every call, so it reuses its byte buffers ---------------------------

let scratch: Uint8Array = new Uint8Array(512)
const utf8 = new TextEncoder()

const room = (buffer: Uint8Array, size: number): Uint8Array =>
  buffer.length >= size ? buffer : new Uint8Array(Math.max(size, buffer.length * 2))

const utf8Bytes = (text: string): number => {
  // A UTF-16 code unit takes at most 3 UTF-8 bytes (a surrogate pair takes 4 for 2 units).
  scratch = room(scratch, text.length * 3)
  return utf8.encodeInto(text, scratch).written
}

// ---- rendezvous --------------------------------------------------------------------------------------------

/**
 * pymemcache's `murmur3_32` of a text: MurmurHash3 (x86, 32-bit) over one byte per code point, the code point's
 * low 8 bits (pymemcache's quirk: not UTF-8, so `"ключ"` hashes as 4 bytes).
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * Distribution.murmur3("ключ") // 2783718605
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const murmur3 = (text: string, seed = 0): number => {
  scratch = room(scratch, text.length)
  const length = Murmur3.writeCodePointBytes(text, scratch, 0)
  return Murmur3.hash(scratch, 0, length, seed)
}

/**
 * A server's name in pymemcache's `HashClient`: `host:port` (IPv6 unbracketed, as Python's `"%s:%s"` formats
 * it), or the socket path.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * Distribution.rendezvousName({ host: "10.0.0.1", port: 11211 }) // "10.0.0.1:11211"
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const rendezvousName = (node: Node): string =>
  node.port === undefined ? node.host : `${node.host}:${node.port}`

/**
 * pymemcache's `HashClient` (rendezvous hashing, `pymemcache/client/rendezvous.py`): each server scores
 * `murmur3("<host:port>-<key>")` (see {@link murmur3}), the highest score wins, and a tie goes to the greater
 * name. The key is the key without the key prefix (pymemcache routes before prefixing), or the call's
 * `routingKey`. Removing a server only moves that server's keys. The default scheme; it has no weights.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * const route = Distribution.rendezvous.make([
 *   { host: "10.0.0.1", port: 11211 },
 *   { host: "10.0.0.2", port: 11211 },
 *   { host: "10.0.0.3", port: 11212 }
 * ])
 * route("foo") // 0, as pymemcache
 * ```
 *
 * @since 0.1.0
 * @category schemes
 */
export const rendezvous: Distribution = {
  name: "rendezvous",
  weighted: false,
  make: (nodes) => {
    const names = nodes.map(rendezvousName)
    // Each server's "<name>-" is mixed into the hash state once, up to its last whole 4-byte block; what is left
    // of it (0-3 bytes) is hashed with each key.
    const states: Array<number> = []
    const mixed: Array<number> = []
    const tails: Array<Uint8Array> = []
    for (const name of names) {
      const bytes = new Uint8Array(name.length + 1)
      const end = Murmur3.writeCodePointBytes(name, bytes, 0)
      bytes[end] = 0x2d // "-"
      const whole = (end + 1) & ~3
      states.push(Murmur3.mixBlocks(0, bytes, 0, whole))
      mixed.push(whole)
      tails.push(bytes.slice(whole, end + 1))
    }
    return (key) => {
      // The key's bytes go once after room for the longest tail (3 bytes); each server's tail is written right
      // before them, so every server's rest of "<name>-<key>" is hashed in place, with no copy or view.
      scratch = room(scratch, 3 + key.length)
      const keyLength = Murmur3.writeCodePointBytes(key, scratch, 3) - 3
      let best = -1
      let winner = 0
      for (let i = 0; i < states.length; i++) {
        const tail = tails[i]!
        const start = 3 - tail.length
        for (let t = 0; t < tail.length; t++) scratch[start + t] = tail[t]!
        const score = Murmur3.hashFrom(states[i]!, mixed[i]!, scratch, start, tail.length + keyLength)
        if (score > best) {
          best = score
          winner = i
        } else if (score === best && names[i]! > names[winner]!) {
          // pymemcache: `max(str(node), str(winner))`.
          winner = i
        }
      }
      return winner
    }
  }
}

// ---- ketama ------------------------------------------------------------------------------------------------

const KETAMA_POINTS = 160
const KETAMA_DEFAULT_PORT = 11211

/**
 * The ketama hash of a key: the little-endian 32-bit integer of the first 4 bytes of its MD5 (of the UTF-8 key).
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * Distribution.ketamaHash("foo") // 0 ≤ n < 2 ** 32
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const ketamaHash = (key: string): number => Crypto.hash("md5", key, "buffer").readUInt32LE(0)

/**
 * The number of ketama points of each server: libmemcached's
 * `floor(weight / total * 160 / 4 * servers + 1e-10) * 4`, computed in single precision as libmemcached's
 * `float`s are (160 each when the weights are equal).
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * Distribution.ketamaPointCounts([{ host: "a", weight: 1 }, { host: "b", weight: 2 }, { host: "c", weight: 1 }])
 * // [120, 240, 120]
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const ketamaPointCounts = (nodes: ReadonlyArray<Node>): ReadonlyArray<number> => {
  const f = Math.fround
  const total = nodes.reduce((sum, node) => sum + (node.weight ?? 1), 0)
  return nodes.map((node) => {
    const pct = f(f(node.weight ?? 1) / f(total))
    const scaled = f(f(f(pct * KETAMA_POINTS) / 4) * f(nodes.length))
    return Math.floor(f(scaled + 1e-10)) * 4
  })
}

/**
 * The ketama continuum of some servers: every point, ascending, with the index of its server (ties in server
 * order). Server `i` contributes {@link ketamaPointCounts}`[i]` points: for `j` from 0, the MD5 of `"host-j"`
 * (port 11211) or `"host:port-j"` (another port; `0` for a unix socket) gives four points, its little-endian
 * 32-bit words.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * const { points, servers } = Distribution.ketamaContinuum([{ host: "10.0.0.1", port: 11211 }])
 * points.length // 160
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const ketamaContinuum = (
  nodes: ReadonlyArray<Node>
): { readonly points: Uint32Array; readonly servers: Uint32Array } => {
  const counts = ketamaPointCounts(nodes)
  const entries: Array<[number, number]> = []
  nodes.forEach((node, server) => {
    const base = node.port === KETAMA_DEFAULT_PORT ? `${node.host}-` : `${node.host}:${node.port ?? 0}-`
    for (let j = 0; j < counts[server]! / 4; j++) {
      const digest = Crypto.hash("md5", `${base}${j}`, "buffer")
      for (let word = 0; word < 4; word++) entries.push([digest.readUInt32LE(word * 4), server])
    }
  })
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  return {
    points: Uint32Array.from(entries, (e) => e[0]),
    servers: Uint32Array.from(entries, (e) => e[1])
  }
}

/**
 * libketama, as libmemcached's `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` (pylibmc `{"ketama_weighted": True}`) and
 * node-hashring's `compatibility: "ketama"`: the key's server is the one of the first point of the
 * {@link ketamaContinuum} at or after {@link ketamaHash}`(key)`, wrapping to the first point. Weights scale
 * each server's share. Removing a server only moves that server's keys (and libmemcached rescales the others'
 * points, as this does when dead servers leave the ring).
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * const route = Distribution.ketama.make([
 *   { host: "10.0.0.1", port: 11211 },
 *   { host: "10.0.0.2", port: 11211 },
 *   { host: "10.0.0.3", port: 11212 }
 * ])
 * route("foo") // 1, as libmemcached
 * ```
 *
 * @since 0.1.0
 * @category schemes
 */
export const ketama: Distribution = {
  name: "ketama",
  weighted: true,
  make: (nodes) => {
    const { points, servers } = ketamaContinuum(nodes)
    return (key) => {
      const hash = ketamaHash(key)
      let low = 0
      let high = points.length
      while (low < high) {
        const middle = (low + high) >>> 1
        if (points[middle]! < hash) low = middle + 1
        else high = middle
      }
      return low === points.length ? servers[0]! : servers[low]!
    }
  }
}

// ---- modula ------------------------------------------------------------------------------------------------

/**
 * The CRC-32 (IEEE, as zlib and Go's `crc32.ChecksumIEEE`) of the UTF-8 bytes of a key.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * Distribution.crc32("foo") // 2356372769
 * ```
 *
 * @since 0.1.0
 * @category hashing
 */
export const crc32 = (key: string): number => {
  const length = utf8Bytes(key)
  return Crc32.checksum(scratch, length)
}

/**
 * gomemcache's `ServerList`: `crc32(key) % n` over the servers in the order given (see {@link crc32}). Simple,
 * and any change to the server list moves most keys. No weights.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * const route = Distribution.modula.make([{ host: "10.0.0.1", port: 11211 }, { host: "10.0.0.2", port: 11211 }])
 * route("foo") // 1
 * ```
 *
 * @since 0.1.0
 * @category schemes
 */
export const modula: Distribution = {
  name: "modula",
  weighted: false,
  make: (nodes) => {
    const n = nodes.length
    return (key) => crc32(key) % n
  }
}

// ---- custom ------------------------------------------------------------------------------------------------

/**
 * A scheme from a function of the key and the servers, returning the index of the key's server (an integer
 * from 0 to `nodes.length - 1`; anything else is a defect of the call). The key is the key without the key
 * prefix, or the call's `routingKey`.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * // Keys "<tenant>:..." by tenant number.
 * const byTenant = Distribution.custom((key, nodes) => Number(key.split(":")[0]) % nodes.length, "tenant")
 * ```
 *
 * @since 0.1.0
 * @category schemes
 */
export const custom = (pick: (key: string, nodes: ReadonlyArray<Node>) => number, name = "custom"): Distribution => ({
  name,
  weighted: false,
  make: (nodes) => (key) => pick(key, nodes)
})

/**
 * The schemes by name, for configuration.
 *
 * @example
 * ```ts
 * import { Distribution } from "@effect-memcache/client"
 * Distribution.byName["ketama"] === Distribution.ketama // true
 * ```
 *
 * @since 0.1.0
 * @category schemes
 */
export const byName: {
  readonly rendezvous: Distribution
  readonly ketama: Distribution
  readonly modula: Distribution
} = { rendezvous, ketama, modula }

/**
 * The name of a built-in scheme.
 *
 * @example
 * ```ts
 * import type { Distribution } from "@effect-memcache/client"
 * const name: Distribution.Name = "ketama"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Name = keyof typeof byName
