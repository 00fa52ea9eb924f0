/**
 * CRC-32 (IEEE 802.3, the zlib / Go `crc32.ChecksumIEEE` one), for the modula distribution.
 *
 * @internal
 */

const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/**
 * The CRC-32 of the first `length` bytes, as an unsigned integer.
 *
 * @internal
 */
export const checksum = (bytes: Uint8Array, length: number): number => {
  let crc = 0xffffffff
  for (let i = 0; i < length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
