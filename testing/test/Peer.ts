/**
 * Raw client sockets for the harness's own tests: a peer records every byte it receives, so a test can hold a
 * conversation with a memcached or a fault proxy step by step, without the client under test in between.
 */
import * as net from "node:net"
import * as tls from "node:tls"
import { afterEach } from "vitest"

/** memcached's answer to `version`. */
export const VERSION = /^VERSION 1\.\d+\.\d+\r\n$/

/** A reply complete at its first line. */
export const line = (reply: Buffer) => reply.toString("latin1").endsWith("\r\n")

/** A retrieval or stats reply, complete at `END`. */
export const endLine = (reply: Buffer) => reply.toString("latin1").endsWith("END\r\n")

export const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/** A client socket that records everything it receives, for step-by-step conversations. */
export interface Peer {
  readonly socket: net.Socket
  readonly chunks: Array<Buffer>
  readonly received: () => Buffer
  readonly clear: () => void
  readonly send: (data: string) => void
  readonly waitFor: (done: (reply: Buffer) => boolean, timeoutMillis?: number) => Promise<string>
  /** Resolves when the socket closes, with the error that closed it, if any. */
  readonly closed: Promise<NodeJS.ErrnoException | undefined>
}

/** Where a peer connects: TCP, a unix socket, or TLS (told apart by `ca`). */
export type PeerOptions = { host: string; port: number } | { path: string } | tls.ConnectionOptions

const open = (options: PeerOptions, peers: Set<Peer>): Promise<Peer> =>
  new Promise((resolve, reject) => {
    const secure = "ca" in options
    const socket = secure ? tls.connect(options as tls.ConnectionOptions) : net.connect(options as net.NetConnectOpts)
    let chunks: Array<Buffer> = []
    let closeError: NodeJS.ErrnoException | undefined
    let isClosed = false
    socket.on("error", (error) => {
      closeError = error
    })
    const closed = new Promise<NodeJS.ErrnoException | undefined>((resolveClosed) =>
      socket.once("close", () => {
        isClosed = true
        resolveClosed(closeError)
      })
    )
    const received = () => Buffer.concat(chunks)
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    const peer: Peer = {
      socket,
      get chunks() {
        return chunks
      },
      received,
      closed,
      clear: () => {
        chunks = []
      },
      send: (data) => {
        socket.write(data)
      },
      waitFor: (done, timeoutMillis = 3000) =>
        new Promise((resolveWait, rejectWait) => {
          const check = () => {
            if (done(received())) {
              cleanup()
              resolveWait(received().toString("latin1"))
            } else if (isClosed) {
              cleanup()
              rejectWait(new Error(`closed before the reply was complete: ${JSON.stringify(received().toString())}`))
            }
          }
          const timer = setTimeout(() => {
            cleanup()
            rejectWait(new Error(`no complete reply in ${timeoutMillis} ms: ${JSON.stringify(received().toString())}`))
          }, timeoutMillis)
          const cleanup = () => {
            clearTimeout(timer)
            socket.off("data", check)
            socket.off("close", check)
          }
          socket.on("data", check)
          socket.on("close", check)
          check()
        })
    }
    peers.add(peer)
    socket.once(secure ? "secureConnect" : "connect", () => resolve(peer))
    socket.once("error", reject)
  })

/**
 * Vitest helper: returns a function that opens peers, each destroyed after the test that opened it. Call it at
 * the top of a file or inside `describe`.
 */
export const usePeers = (): ((options: PeerOptions) => Promise<Peer>) => {
  const peers = new Set<Peer>()
  afterEach(() => {
    for (const peer of peers) peer.socket.destroy()
    peers.clear()
  })
  return (options) => open(options, peers)
}
