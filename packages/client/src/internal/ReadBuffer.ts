/**
 * The memory a plain socket reads into, through node:net's `onread`. It spares each read the buffer Node would
 * allocate for it and the socket's readable-stream machinery (`push`, `data` events). TLS sockets cannot read
 * this way; they keep their `data` events.
 *
 * One 64 KiB buffer is read into again and again while no reply views what was read. A kept read (one whose bytes
 * a value still views, or one that a long value spans: see `kept`) is never written over: the next read goes into
 * the unused rest of the buffer, and a fresh buffer is taken once less than 16 KiB is left. So a value holds at most one such buffer,
 * as it would hold the up to 64 KiB chunk Node read it in.
 *
 * @internal
 */

/** The most one read takes: what libuv suggests for a TCP read. */
const SIZE = 65536
/** The least room a read is given. */
const MIN_READ = 16384

const allocate = (): Uint8Array => Buffer.allocUnsafeSlow(SIZE)

const unset = (): void => {
  throw new Error("a socket read arrived before its connection was set up")
}

/** @internal */
export class ReadBuffer {
  private buffer = allocate()
  /** Where the next read goes: the buffer from `start` on. */
  private start = 0
  private target = this.buffer
  /** The length of the last read. */
  private last = 0
  /** Where each read goes: set by the connection once the socket is connected. */
  sink: (chunk: Uint8Array) => void = unset
  /**
   * Whether the last read's memory must not be read into again: a value views it, or a long value is being
   * assembled across reads (the connection decides, from its decoder).
   */
  kept: () => boolean = () => false

  /** The `onread` option of `net.createConnection`. */
  readonly onread = {
    // Node asks for the memory of the next read once at the start and after every read.
    buffer: (): Uint8Array => {
      if (!this.kept()) return this.target
      this.start += this.last
      if (SIZE - this.start < MIN_READ) {
        this.buffer = allocate()
        this.start = 0
      }
      this.target = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + this.start, SIZE - this.start)
      return this.target
    },
    callback: (length: number, target: Uint8Array): boolean => {
      this.last = length
      this.sink(new Uint8Array(target.buffer, target.byteOffset, length))
      return true
    }
  }
}
