/**
 * Test harness: starts real memcached processes (TCP, IPv6, unix socket, TLS, ASCII auth) for integration tests,
 * and makes sure none of them outlives the test process.
 *
 * @since 0.1.0
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import { afterAll, beforeAll } from "vitest"

/**
 * A `username` / `password` pair written to the `-Y` auth file.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const user: MemcachedCredentials = { username: "user", password: "password" }
 * ```
 */
export interface MemcachedCredentials {
  readonly username: string
  readonly password: string
}

/**
 * How to start a memcached process. Every field is optional; the default is plain TCP on a free 127.0.0.1 port.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const options: MemcachedOptions = { args: ["-I", "1k", "-o", "slab_chunk_max=1024"] }
 * ```
 */
export interface MemcachedOptions {
  /** Loopback address to listen on (default `"127.0.0.1"`). Ignored in unix socket mode. */
  readonly host?: "127.0.0.1" | "::1"
  /** Extra command-line arguments, appended after the harness's own (e.g. `["-m", "8", "-c", "10", "-A"]`). */
  readonly args?: ReadonlyArray<string>
  /** Listen on a unix socket in a fresh temporary directory instead of TCP. */
  readonly unixSocket?: boolean
  /** Enable TLS (`-Z`) with a certificate signed by a freshly generated CA; the CA PEM is returned as `ca`. */
  readonly tls?: boolean
  /** Enable ASCII authentication (`-Y`) with these users. */
  readonly auth?: MemcachedCredentials | ReadonlyArray<MemcachedCredentials>
  /** How long to wait for the server to answer before giving up (default 5000 ms). */
  readonly startTimeoutMillis?: number
}

/**
 * A running (or stopped, restartable) memcached child process.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const server: MemcachedServer = await startMemcached()
 * console.log(server.address) // "127.0.0.1:40123"
 * await server.stop()
 * ```
 */
export interface MemcachedServer {
  /** `"127.0.0.1"` or `"::1"`; the empty string in unix socket mode. */
  readonly host: string
  /** The TCP port; `0` in unix socket mode. Stays the same across `restart()`. */
  readonly port: number
  /** The unix socket path, in unix socket mode only. */
  readonly path?: string
  /** `"127.0.0.1:port"`, `"[::1]:port"` or `"unix:/path"`. */
  readonly address: string
  /** The CA certificate (PEM) that signed the server certificate, in TLS mode only. */
  readonly ca?: string
  /** The users of the `-Y` auth file, in auth mode only. */
  readonly credentials?: ReadonlyArray<MemcachedCredentials>
  /** The full argument list memcached was started with. */
  readonly args: ReadonlyArray<string>
  /** The pid of the current process (changes on `restart()`). */
  readonly pid: number
  /** Whether the current process has not exited yet. */
  readonly running: boolean
  /** What the current process wrote to stdout and stderr (the last 64 KiB). */
  readonly output: () => string
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process has exited and temp files are removed. */
  readonly stop: () => Promise<void>
  /** SIGKILL; resolves once the process has exited. Temp files stay, so `restart()` works. */
  readonly kill9: () => Promise<void>
  /** SIGSTOP: the process keeps its sockets open but answers nothing. Resolves once it is stopped. */
  readonly pause: () => Promise<void>
  /** SIGCONT after `pause()`. */
  readonly resume: () => Promise<void>
  /** Stops the process if it runs, then starts it again on the same port / path with the same arguments. */
  readonly restart: () => Promise<void>
}

const INSTALL_HINT = "apt-get update && apt-get install -y memcached"
const OUTPUT_LIMIT = 64 * 1024
const STOP_GRACE_MILLIS = 2000

/**
 * Finds an executable on `PATH` (read at call time, so tests can change it).
 *
 * @since 0.1.0
 * @category utils
 * @example
 * ```ts
 * const memcached = findExecutable("memcached") // "/usr/bin/memcached" or undefined
 * ```
 */
export const findExecutable = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {
      // not here; keep looking
    }
  }
  return undefined
}

/**
 * Asks the OS for a free TCP port on a loopback address (listen on port 0, read the port, close).
 *
 * @since 0.1.0
 * @category utils
 * @example
 * ```ts
 * const port = await freePort("127.0.0.1")
 * ```
 */
export const freePort = (host: string = "127.0.0.1"): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once("error", reject)
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not get a free port"))))
    })
  })

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

const runFile = (file: string, args: ReadonlyArray<string>, cwd: string): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: 10_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr}`))
      else resolve()
    })
  })

interface TlsMaterial {
  readonly ca: string
  readonly cert: string
  readonly key: string
}

// One CA and server certificate per test process is enough: generating them is the slow part of a TLS start.
let tlsMaterial: Promise<TlsMaterial> | undefined

const generateTlsMaterial = async (openssl: string): Promise<TlsMaterial> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memcached-pki-"))
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    await runFile(
      openssl,
      [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "7",
        "-subj",
        "/CN=effect-memcache test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign"
      ],
      dir
    )
    await runFile(
      openssl,
      ["req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
      dir
    )
    fs.writeFileSync(
      path.join(dir, "server.ext"),
      [
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        ""
      ].join("\n")
    )
    const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`
    await runFile(
      openssl,
      [
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        serial,
        "-days",
        "7",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem"
      ],
      dir
    )
    const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8")
    return { ca: read("ca.pem"), cert: read("server.pem"), key: read("server.key") }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const loadTlsMaterial = (openssl: string): Promise<TlsMaterial> => {
  if (tlsMaterial === undefined) {
    tlsMaterial = generateTlsMaterial(openssl)
    // A failure must not be cached: the next caller may have fixed the cause.
    tlsMaterial.catch(() => {
      tlsMaterial = undefined
    })
  }
  return tlsMaterial
}

interface Endpoint {
  readonly host: string
  readonly port: number
  readonly path?: string
  readonly ca?: string
}

const connectEndpoint = (endpoint: Endpoint): net.Socket => {
  if (endpoint.ca !== undefined) {
    // Node refuses an IP address as SNI server name, and checks the IP SAN without it.
    return tls.connect({ host: endpoint.host, port: endpoint.port, ca: endpoint.ca, rejectUnauthorized: true })
  }
  if (endpoint.path !== undefined) return net.connect({ path: endpoint.path })
  return net.connect({ host: endpoint.host, port: endpoint.port })
}

/**
 * Options of {@link rawCommand}.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * const options: RawCommandOptions = { until: (reply) => reply.toString().endsWith("END\r\n") }
 * ```
 */
export interface RawCommandOptions {
  /** When the reply is complete (default: it ends with `\r\n`). If the server closes first, what arrived is returned. */
  readonly until?: (reply: Buffer) => boolean
  /** Reject after this long without a complete reply (default 2000 ms). */
  readonly timeoutMillis?: number
}

const endsWithCrlf = (reply: Buffer) =>
  reply.length >= 2 && reply[reply.length - 2] === 0x0d && reply[reply.length - 1] === 0x0a

/**
 * One raw round trip on a fresh connection (TCP, unix or TLS, as the server was started): writes `bytes`, reads
 * until `until(reply)` holds or the server closes, then closes the connection. For inspecting the server directly.
 *
 * @since 0.1.0
 * @category utils
 * @example
 * ```ts
 * const reply = await rawCommand(server, "get k\r\n", { until: (b) => b.toString().endsWith("END\r\n") })
 * ```
 */
export const rawCommand = (
  server: Pick<MemcachedServer, "host" | "port" | "path" | "ca">,
  bytes: string | Uint8Array,
  options: RawCommandOptions = {}
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const until = options.until ?? endsWithCrlf
    const timeoutMillis = options.timeoutMillis ?? 2000
    const chunks: Array<Buffer> = []
    let settled = false
    const socket = connectEndpoint(server)
    const reply = () => Buffer.concat(chunks)
    const finish = (error?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(reply())
    }
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `rawCommand: no complete reply after ${timeoutMillis} ms; got ${JSON.stringify(reply().toString("latin1"))}`
          )
        ),
      timeoutMillis
    )
    socket.once(server.ca !== undefined ? "secureConnect" : "connect", () => socket.write(bytes))
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk)
      if (until(reply())) finish()
    })
    socket.once("end", () => finish())
    socket.once("close", () => finish())
    socket.once("error", (error) =>
      finish(
        new Error(`rawCommand: ${error.message}; got ${JSON.stringify(reply().toString("latin1"))}`, { cause: error })
      )
    )
  })

const wakeListener = (endpoint: Endpoint) => {
  const socket =
    endpoint.path !== undefined
      ? net.connect({ path: endpoint.path })
      : net.connect({ host: endpoint.host, port: endpoint.port })
  socket.on("error", () => {})
  socket.on("connect", () => socket.destroy())
  socket.unref()
}

// Any reply line proves the server is serving: with -Y even `version` is answered `CLIENT_ERROR unauthenticated`.
const probe = (endpoint: Endpoint): Promise<boolean> =>
  rawCommand(endpoint, "version\r\n", { timeoutMillis: 500 }).then(endsWithCrlf, () => false)

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

interface Instance {
  readonly child: ChildProcess
  readonly pid: number
  readonly exited: Promise<Exit>
  exit: Exit | undefined
  output: string
}

interface Registered {
  readonly pid: () => number | undefined
  readonly dir: string
}

// Every server that might own a process or temp files, for the last-resort cleanup below and for stopAll().
const registry = new Map<Registered, MemcachedServer>()
let exitHookInstalled = false

const cleanupSync = () => {
  for (const entry of registry.keys()) {
    const pid = entry.pid()
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
    fs.rmSync(entry.dir, { recursive: true, force: true })
  }
  registry.clear()
}

const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on("exit", cleanupSync)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      cleanupSync()
      // Re-raise only if nobody else handles it, so the default (terminate) still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.once(signal, onSignal)
  }
}

const processState = (pid: number): string | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name may contain spaces and parentheses; the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
  } catch {
    return undefined
  }
}

const waitForState = async (pid: number, stopped: boolean) => {
  const deadline = Date.now() + 2000
  while (Date.now() < deadline) {
    const state = processState(pid)
    if (state === undefined) return // no /proc (or process gone): nothing more to wait for
    if ((state === "T" || state === "t") === stopped) return
    await sleep(2)
  }
  throw new Error(`memcached pid ${pid} did not become ${stopped ? "stopped" : "running"}`)
}

/**
 * Starts a memcached child process (not daemonized) on a free loopback port, and waits until it answers.
 * Throws with the install command if memcached is missing, and with memcached's output if it does not come up.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * const server = await startMemcached({ args: ["-m", "16"] })
 * try {
 *   // ... connect to server.host:server.port
 * } finally {
 *   await server.stop()
 * }
 * ```
 */
export const startMemcached = async (options: MemcachedOptions = {}): Promise<MemcachedServer> => {
  const binary = findExecutable("memcached")
  if (binary === undefined) {
    throw new Error(`memcached was not found on PATH; install it with: ${INSTALL_HINT}`)
  }
  if (options.tls === true && options.unixSocket === true) {
    throw new Error("startMemcached: TLS over a unix socket is not supported; use TCP for TLS")
  }
  let material: TlsMaterial | undefined
  if (options.tls === true) {
    const openssl = findExecutable("openssl")
    if (openssl === undefined) {
      throw new Error(
        "openssl was not found on PATH (needed for TLS test certificates); install it with: apt-get update && apt-get install -y openssl"
      )
    }
    material = await loadTlsMaterial(openssl)
  }

  const isRoot = process.getuid?.() === 0
  const host = options.unixSocket === true ? "" : (options.host ?? "127.0.0.1")
  const credentials =
    options.auth === undefined
      ? undefined
      : Array.isArray(options.auth)
        ? options.auth
        : [options.auth as MemcachedCredentials]
  const startTimeoutMillis = options.startTimeoutMillis ?? 5000

  // Files are kept in memory too, so restart() after stop() can recreate the directory exactly as it was.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memcached-test-"))
  const files = new Map<string, string>()
  if (material !== undefined) {
    files.set("server.pem", material.cert)
    files.set("server.key", material.key)
  }
  if (credentials !== undefined) {
    files.set("auth", credentials.map((c) => `${c.username}:${c.password}\n`).join(""))
  }
  const materialize = () => {
    fs.mkdirSync(dir, { recursive: true })
    // memcached runs as nobody when we are root: it must read these files and create its socket here.
    fs.chmodSync(dir, 0o777)
    for (const [name, content] of files) {
      fs.writeFileSync(path.join(dir, name), content, { mode: 0o644 })
      fs.chmodSync(path.join(dir, name), 0o644)
    }
  }
  materialize()

  const socketPath = options.unixSocket === true ? path.join(dir, "memcached.sock") : undefined
  const fixedArgs: Array<string> = ["-U", "0"]
  if (socketPath !== undefined) fixedArgs.push("-s", socketPath, "-a", "0777")
  if (isRoot) fixedArgs.push("-u", "nobody")
  if (material !== undefined) {
    fixedArgs.push("-Z", "-o", `ssl_chain_cert=${path.join(dir, "server.pem")},ssl_key=${path.join(dir, "server.key")}`)
  }
  if (credentials !== undefined) fixedArgs.push("-Y", path.join(dir, "auth"))
  const extraArgs = [...(options.args ?? [])]
  const argsFor = (port: number) =>
    socketPath !== undefined
      ? [...fixedArgs, ...extraArgs]
      : ["-l", host, "-p", String(port), ...fixedArgs, ...extraArgs]

  let port = 0
  let args: ReadonlyArray<string> = []
  let instance: Instance | undefined
  let stopped = false

  const spawnInstance = (argv: ReadonlyArray<string>): Instance => {
    const child = spawn(binary, argv, { stdio: ["ignore", "pipe", "pipe"] })
    if (child.pid === undefined) {
      // spawn failed synchronously (e.g. ENOENT races); the 'error' event carries the reason.
      throw new Error(`could not spawn ${binary}`)
    }
    let resolveExit: (exit: Exit) => void = () => {}
    const exited = new Promise<Exit>((resolve) => {
      resolveExit = resolve
    })
    const created: Instance = { child, pid: child.pid, exited, exit: undefined, output: "" }
    const append = (chunk: Buffer) => {
      created.output = (created.output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT)
    }
    child.stdout?.on("data", append)
    child.stderr?.on("data", append)
    child.on("error", (error) => append(Buffer.from(`\n[spawn error] ${error.message}\n`)))
    child.on("exit", (code, signal) => {
      created.exit = { code, signal }
      resolveExit(created.exit)
    })
    // A forgotten server must not keep the test process alive; the exit hook kills it.
    child.unref()
    ;(child.stdout as net.Socket | null)?.unref()
    ;(child.stderr as net.Socket | null)?.unref()
    return created
  }

  const endpoint = (): Endpoint => ({
    host,
    port,
    ...(socketPath !== undefined ? { path: socketPath } : {}),
    ...(material !== undefined ? { ca: material.ca } : {})
  })

  // Resolves when the instance answers; rejects (with its output) if it exits or the deadline passes.
  const awaitReady = async (started: Instance): Promise<void> => {
    const deadline = Date.now() + startTimeoutMillis
    while (true) {
      if (started.exit !== undefined) {
        throw new StartError(
          `memcached exited during startup (code ${started.exit.code}, signal ${started.exit.signal}); args: ${args.join(" ")}\n${started.output}`,
          started.output
        )
      }
      if (await probe(endpoint())) return
      if (Date.now() > deadline) {
        await terminate(started, "SIGKILL")
        throw new StartError(
          `memcached did not answer within ${startTimeoutMillis} ms; args: ${args.join(" ")}\n${started.output}`,
          started.output
        )
      }
      await sleep(started.exit === undefined ? 10 : 0)
    }
  }

  const terminate = async (target: Instance, signal: NodeJS.Signals): Promise<void> => {
    if (target.exit !== undefined) return
    try {
      process.kill(target.pid, signal)
      if (signal !== "SIGKILL") {
        // A SIGSTOPped process only acts on SIGTERM once it runs again.
        process.kill(target.pid, "SIGCONT")
        // memcached only notices the signal when its main event loop wakes up (its clock ticks once a second);
        // a connection to the listener wakes it at once.
        wakeListener(endpoint())
      }
    } catch {
      // already gone
    }
    let timer: NodeJS.Timeout | undefined
    const killLater = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), STOP_GRACE_MILLIS)
    })
    const outcome = await Promise.race([target.exited, killLater])
    clearTimeout(timer)
    if (outcome === "timeout") {
      try {
        process.kill(target.pid, "SIGKILL")
      } catch {
        // already gone
      }
      await target.exited
    }
  }

  // Spawns on `port` (or a fresh one when allowed) and waits for readiness; retries when the port is taken.
  const launch = async (reusePort: boolean): Promise<void> => {
    const attempts = reusePort ? 20 : 5
    for (let attempt = 1; ; attempt++) {
      if (socketPath === undefined && !reusePort) port = await freePort(host)
      args = argsFor(port)
      const started = spawnInstance(args)
      instance = started
      try {
        await awaitReady(started)
        return
      } catch (error) {
        const portTaken = error instanceof StartError && /already in use|failed to listen/i.test(error.output)
        if (!portTaken || attempt >= attempts) throw error
        // Another process grabbed the port between our probe and memcached's bind: try again.
        if (reusePort) await sleep(100)
      }
    }
  }

  const entry: Registered = { pid: () => (instance?.exit === undefined ? instance?.pid : undefined), dir }

  const current = (): Instance => {
    if (instance === undefined) throw new Error("memcached was never started")
    return instance
  }

  const server: MemcachedServer = {
    get host() {
      return host
    },
    get port() {
      return port
    },
    ...(socketPath !== undefined ? { path: socketPath } : {}),
    get address() {
      if (socketPath !== undefined) return `unix:${socketPath}`
      return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`
    },
    ...(material !== undefined ? { ca: material.ca } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    get args() {
      return args
    },
    get pid() {
      return current().pid
    },
    get running() {
      return instance !== undefined && instance.exit === undefined
    },
    output: () => instance?.output ?? "",
    stop: async () => {
      stopped = true
      if (instance !== undefined) await terminate(instance, "SIGTERM")
      fs.rmSync(dir, { recursive: true, force: true })
      registry.delete(entry)
    },
    kill9: async () => {
      await terminate(current(), "SIGKILL")
    },
    pause: async () => {
      const target = current()
      process.kill(target.pid, "SIGSTOP")
      await waitForState(target.pid, true)
    },
    resume: async () => {
      const target = current()
      process.kill(target.pid, "SIGCONT")
      await waitForState(target.pid, false)
    },
    restart: async () => {
      if (instance !== undefined) await terminate(instance, "SIGTERM")
      if (stopped) {
        stopped = false
        materialize()
        registry.set(entry, server)
      }
      await launch(true)
    }
  }

  installExitHook()
  registry.set(entry, server)
  try {
    await launch(false)
  } catch (error) {
    await server.stop()
    throw error
  }
  return server
}

class StartError extends Error {
  readonly output: string
  constructor(message: string, output: string) {
    super(message)
    this.name = "MemcachedStartError"
    this.output = output
  }
}

/**
 * Stops every server started by this process that is not stopped yet.
 *
 * @since 0.1.0
 * @category destructors
 * @example
 * ```ts
 * afterAll(() => stopAll())
 * ```
 */
export const stopAll = async (): Promise<void> => {
  await Promise.all([...registry.values()].map((server) => server.stop()))
}

/**
 * Vitest helper: starts a server in `beforeAll`, stops it in `afterAll` (also when tests fail), and returns a
 * getter for it. Call it at the top of a file or inside `describe`.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * const memcached = useMemcached()
 * it("answers", async () => {
 *   const reply = await rawCommand(memcached(), "version\r\n")
 * })
 * ```
 */
export const useMemcached = (options: MemcachedOptions = {}): (() => MemcachedServer) => {
  let server: MemcachedServer | undefined
  beforeAll(async () => {
    server = await startMemcached(options)
  })
  afterAll(async () => {
    const started = server
    server = undefined
    await started?.stop()
  })
  return () => {
    if (server === undefined)
      throw new Error("useMemcached: the server is only available inside tests (after beforeAll)")
    return server
  }
}
