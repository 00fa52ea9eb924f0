/**
 * The three distribution schemes written a second time, straight from /work/shared/hashing.md and independently
 * of the Distribution module, so that Distribution.test.ts can compare the module with them on many keys (its
 * golden vectors alone are 10 ASCII keys).
 */
import * as Crypto from "node:crypto"
import * as Zlib from "node:zlib"
import type { Distribution } from "@effect-memcache/client"

/** MurmurHash3 x86_32 of a byte array (plain arithmetic on BigInt-free 32-bit words). */
const murmur = (data: ReadonlyArray<number>, seed = 0): number => {
  const mul = (a: number, b: number) => Math.imul(a, b) >>> 0
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0
  let h = seed >>> 0
  const blocks = Math.floor(data.length / 4)
  for (let b = 0; b < blocks; b++) {
    let k = (data[4 * b]! | (data[4 * b + 1]! << 8) | (data[4 * b + 2]! << 16) | (data[4 * b + 3]! << 24)) >>> 0
    k = mul(rotl(mul(k, 0xcc9e2d51), 15), 0x1b873593)
    h = (mul(rotl((h ^ k) >>> 0, 13), 5) + 0xe6546b64) >>> 0
  }
  const tail = blocks * 4
  const rest = data.length - tail
  if (rest > 0) {
    let k = 0
    for (let j = rest - 1; j >= 0; j--) k = (k << 8) | data[tail + j]!
    k = mul(rotl(mul(k >>> 0, 0xcc9e2d51), 15), 0x1b873593)
    h = (h ^ k) >>> 0
  }
  h = (h ^ data.length) >>> 0
  h = mul(h ^ (h >>> 16), 0x85ebca6b)
  h = mul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** pymemcache: one byte per code point, `ord(c) & 0xFF`. */
const pyBytes = (text: string): Array<number> => Array.from(text, (c) => c.codePointAt(0)! & 0xff)

/** pymemcache's rendezvous: the highest murmur3 score of `name-key` wins, a tie going to the greater name. */
export const rendezvous = (nodes: ReadonlyArray<Distribution.Node>) => (key: string) => {
  let high = -1
  let winner = ""
  const names = nodes.map((n) => `${n.host}:${n.port}`)
  for (const name of names) {
    const score = murmur(pyBytes(`${name}-${key}`))
    if (score > high) {
      high = score
      winner = name
    } else if (score === high) winner = name > winner ? name : winner
  }
  return names.indexOf(winner)
}

const md5 = (text: string) => Crypto.createHash("md5").update(text, "utf8").digest()

/** libmemcached's weighted ketama: 4 points per MD5 of `host[:port]-i`, the key on the first point at or after it. */
export const ketama = (nodes: ReadonlyArray<Distribution.Node>) => {
  const f = Math.fround
  const total = nodes.reduce((s, n) => s + (n.weight ?? 1), 0)
  const points: Array<{ value: number; server: number }> = []
  nodes.forEach((node, server) => {
    const pct = f((node.weight ?? 1) / total)
    const count = Math.floor(f(f(f(f(pct * 160) / 4) * nodes.length) + 1e-10)) * 4
    for (let i = 0; i < count / 4; i++) {
      const name = node.port === 11211 ? `${node.host}-${i}` : `${node.host}:${node.port}-${i}`
      const digest = md5(name)
      for (let a = 0; a < 4; a++) points.push({ value: digest.readUInt32LE(4 * a), server })
    }
  })
  points.sort((x, y) => x.value - y.value || x.server - y.server)
  return (key: string) => {
    const hash = md5(key).readUInt32LE(0)
    const first = points.find((p) => p.value >= hash)
    return (first ?? points[0]!).server
  }
}

/** gomemcache's modula: CRC-32 of the UTF-8 key, modulo the number of servers. */
export const modula = (nodes: ReadonlyArray<Distribution.Node>) => (key: string) =>
  Zlib.crc32(Buffer.from(key, "utf8")) % nodes.length
