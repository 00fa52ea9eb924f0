/**
 * MurmurHash3 x86 32-bit, as pymemcache's `murmur3_32` computes it (the hash of its rendezvous `HashClient`).
 *
 * @internal
 */

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/**
 * The state after mixing the whole 4-byte blocks of the `length` bytes from `offset` into state `h`; a tail of
 * 1-3 bytes is left for {@link hashFrom}. Lets a caller mix a fixed prefix once and hash many suffixes after it.
 *
 * @internal
 */
export const mixBlocks = (h: number, bytes: Uint8Array, offset: number, length: number): number => {
  const rounded = offset + (length & ~3)
  for (let i = offset; i < rounded; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  return h
}

/**
 * The hash of an input whose first `mixed` bytes (a multiple of 4) went into state `h` through
 * {@link mixBlocks}, and whose rest is the `length` bytes from `offset`; as an unsigned integer.
 *
 * @internal
 */
export const hashFrom = (h: number, mixed: number, bytes: Uint8Array, offset: number, length: number): number => {
  h = mixBlocks(h, bytes, offset, length)
  const rounded = offset + (length & ~3)
  const tail = length & 3
  if (tail !== 0) {
    let k = 0
    if (tail === 3) k ^= bytes[rounded + 2]! << 16
    if (tail >= 2) k ^= bytes[rounded + 1]! << 8
    k ^= bytes[rounded]!
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  h ^= mixed + length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * MurmurHash3 (x86, 32-bit) of the `length` bytes from `offset`, as an unsigned integer.
 *
 * @internal
 */
export const hash = (bytes: Uint8Array, offset: number, length: number, seed: number): number =>
  hashFrom(seed | 0, 0, bytes, offset, length)

/**
 * Writes pymemcache's view of a text as bytes into `out` from `offset`: one byte per code point, its low 8 bits
 * (pymemcache hashes `ord(c) & 0xFF`, not UTF-8). Returns the offset after the last byte; `out` must have room
 * for `text.length` bytes.
 *
 * @internal
 */
export const writeCodePointBytes = (text: string, out: Uint8Array, offset: number): number => {
  let at = offset
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    // A surrogate pair is one code point; its low 8 bits are those of the low surrogate (0xDC00 ends in 0x00).
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) {
        out[at++] = low & 0xff
        i++
        continue
      }
    }
    out[at++] = unit & 0xff
  }
  return at
}
