/**
 * Opening a connection: the socket (TCP, unix or TLS) with its connect timeout, then memcached's ASCII
 * authentication when configured.
 *
 * @internal
 */
import * as Net from "node:net"
import * as Tls from "node:tls"
import * as Command from "@effect-memcache/protocol/Command"
import * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { MemcacheConnectionError, MemcacheTimeoutError } from "../MemcacheError.ts"
import { Connection, type ConnectionOptions, MAX_TIMER_MILLIS } from "./Connection.ts"
import { ReadBuffer } from "./ReadBuffer.ts"
import { socketFailure } from "./SocketFailure.ts"
import * as Transport from "./Transport.ts"

/**
 * Opens a socket (TCP, unix or TLS), authenticates when configured, and returns the connection. Fails with a
 * connect timeout or a connection error; interrupting it destroys the socket.
 *
 * @internal
 */
export const open = (
  options: ConnectionOptions
): Effect.Effect<Connection, MemcacheConnectionError | MemcacheTimeoutError> =>
  options.auth === undefined
    ? connectSocket(options)
    : Effect.flatMap(connectSocket(options), (connection) =>
        // Given up while authenticating (the layer closed): the socket goes too.
        Effect.onInterrupt(authenticate(connection, options), () =>
          Effect.sync(() =>
            connection.retire(
              new MemcacheConnectionError({
                server: options.address.name,
                reason: "closed",
                detail: "connecting was interrupted"
              })
            )
          )
        )
      )

const connectSocket = (options: ConnectionOptions) =>
  Effect.callback<Connection, MemcacheConnectionError | MemcacheTimeoutError>((resume) => {
    const { address } = options
    const target = address._tag === "Unix" ? { path: address.path } : { host: address.host, port: address.port }
    const tls = options.tls
    let reads: ReadBuffer | undefined
    let socket: Net.Socket
    if (tls === undefined) {
      reads = new ReadBuffer()
      socket = Net.createConnection({
        ...target,
        noDelay: options.noDelay,
        keepAlive: options.keepAlive,
        onread: reads.onread
      })
    } else {
      socket = Tls.connect({
        ...tls,
        ...target,
        ...(address._tag === "Tcp" && tls.servername === undefined && !Net.isIP(address.host)
          ? { servername: address.host }
          : {})
      })
    }
    const event = options.tls === undefined ? "connect" : "secureConnect"
    const timer = Number.isFinite(options.connectTimeoutMillis)
      ? setTimeout(
          () => {
            cleanup()
            socket.destroy()
            resume(
              Effect.fail(
                new MemcacheTimeoutError({
                  server: address.name,
                  phase: "connect",
                  millis: options.connectTimeoutMillis
                })
              )
            )
          },
          Math.min(MAX_TIMER_MILLIS, options.connectTimeoutMillis)
        )
      : undefined
    const onConnect = () => {
      cleanup()
      if (options.tls !== undefined) {
        socket.setNoDelay(options.noDelay)
        socket.setKeepAlive(options.keepAlive)
      }
      // The Connection's listeners go on now: the fiber may resume later, and an `error` event on a socket
      // without a listener would crash the process.
      resume(Effect.succeed(new Connection(socket, options, reads)))
    }
    const onError = (error: unknown) => {
      cleanup()
      socket.destroy()
      resume(Effect.fail(socketFailure(address.name, error)))
    }
    const cleanup = () => {
      clearTimeout(timer)
      socket.off(event, onConnect)
      socket.off("error", onError)
    }
    socket.once(event, onConnect)
    socket.once("error", onError)
    return Effect.sync(() => {
      cleanup()
      socket.destroy()
    })
  })

/** memcached's ASCII authentication (`-Y`): the protocol's `auth` command, answered `STORED` when accepted. */
const authenticate = (
  connection: Connection,
  options: ConnectionOptions
): Effect.Effect<Connection, MemcacheConnectionError | MemcacheTimeoutError> => {
  const auth = options.auth!
  const failed = (detail: string) =>
    new MemcacheConnectionError({ server: options.address.name, reason: "auth", detail })
  // A credential the protocol cannot carry (too long a value, say) is refused before it is sent.
  const command = Validation.validate(Command.auth(auth.username, Redacted.value(auth.password)))
  if (Validation.isInvalid(command)) {
    const error = failed(`the credentials cannot be sent: ${command.reason}`)
    connection.retire(error)
    return Effect.fail(error)
  }
  return Transport.request(
    (request) => connection.enqueue(request),
    command,
    Reply.expect.Storage,
    options.connectTimeoutMillis
  ).pipe(
    Effect.catchTags({
      MemcacheTimeoutError: () =>
        Effect.fail(
          new MemcacheTimeoutError({
            server: options.address.name,
            phase: "connect",
            millis: options.connectTimeoutMillis
          })
        ),
      MemcacheProtocolError: (e) => Effect.fail(failed(e.message)),
      MemcacheUnexpectedCloseError: () => Effect.fail(failed("the server closed the connection during authentication"))
    }),
    Effect.flatMap((reply) => {
      if (reply !== undefined && reply._tag === "Stored") {
        connection.authenticated()
        return Effect.succeed(connection)
      }
      connection.retire(failed("authentication failed"))
      return Effect.fail(
        failed(
          reply === undefined
            ? "no reply"
            : `the server refused the credentials (${reply._tag}${"text" in reply ? ` ${reply.text}` : ""})`
        )
      )
    })
  )
}
