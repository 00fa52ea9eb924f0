/**
 * Server address forms: `host:port`, `[::1]:port`, `host` (port 11211), `unix:/path`, and the URL forms
 * `memcache://host:port` and `memcaches://host:port` (TLS). Every refusal says what to write instead.
 *
 * @internal
 */

/** @internal */
export type ServerAddress =
  | {
      readonly _tag: "Tcp"
      readonly host: string
      readonly port: number
      readonly name: string
      /** Written `memcaches://`: this server is reached over TLS. */
      readonly tls: boolean
    }
  | { readonly _tag: "Unix"; readonly path: string; readonly name: string }

/** memcached's default port. @internal */
export const DEFAULT_PORT = 11211

const FORMS = "host:port, [ipv6]:port, memcache://host:port or unix:/path"

/** What a host:port address that is refused should have been, when it can be told. */
const hostPort = (host: string, port: string | undefined) =>
  `${host.includes(":") ? `[${host}]` : host}:${port !== undefined && /^\d+$/.test(port) ? port : DEFAULT_PORT}`

/** The URL forms: the scheme, and what follows it (`undefined` for an address without one). */
const schemeOf = (text: string): { readonly tls: boolean; readonly rest: string } | string | undefined => {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)
  if (match === null) return undefined
  const scheme = match[1]!.toLowerCase()
  const rest = text.slice(match[0].length)
  if (scheme === "memcache") return { tls: false, rest }
  if (scheme === "memcaches") return { tls: true, rest }
  return `"${scheme}://" is not a memcached scheme: write memcache://${rest} (or ${rest})`
}

/** `host`, `host:port` or `[addr]:port` (no scheme), or why not. */
const parseTcp = (input: string, text: string, tls: boolean): ServerAddress | string => {
  if (/[/@?#]/.test(text)) {
    return `"${input}": only a host and a port are read (no path, user or query): write ${FORMS}`
  }
  let host: string
  let portText: string | undefined
  if (text.startsWith("[")) {
    const end = text.indexOf("]")
    if (end < 0) return `"${input}": missing "]": write [addr]:port, e.g. [::1]:${DEFAULT_PORT}`
    host = text.slice(1, end)
    const rest = text.slice(end + 1)
    if (rest !== "" && !rest.startsWith(":")) {
      return `"${input}": expected ":port" after "]": write [${host}]:port, e.g. [${host}]:${DEFAULT_PORT}`
    }
    portText = rest === "" ? undefined : rest.slice(1)
  } else {
    const colon = text.lastIndexOf(":")
    if (colon >= 0 && text.indexOf(":") !== colon) {
      return `"${input}": an IPv6 address goes in brackets: write [addr]:port, e.g. [::1]:${DEFAULT_PORT}`
    }
    host = colon < 0 ? text : text.slice(0, colon)
    portText = colon < 0 ? undefined : text.slice(colon + 1)
  }
  if (host === "") return `"${input}": empty host: write host:port, e.g. 127.0.0.1:${DEFAULT_PORT}`
  const port = portText === undefined ? DEFAULT_PORT : Number(portText)
  if (!Number.isInteger(port) || port < 1 || port > 65535 || (portText !== undefined && !/^\d+$/.test(portText))) {
    return `"${input}": the port must be a number in 1..65535: write ${hostPort(host, undefined)}`
  }
  return { _tag: "Tcp", host, port, name: hostPort(host, String(port)), tls }
}

/**
 * Parses one address, or returns why it cannot be parsed (and what to write instead). Whitespace around it is
 * ignored; whitespace inside a TCP address is refused (it would otherwise reach DNS as part of a host name).
 *
 * @internal
 */
export const parse = (input: string): ServerAddress | string => {
  const text = input.trim()
  if (text.startsWith("unix:")) {
    const path = text.slice(5)
    return path === ""
      ? `"${input}": empty unix socket path: write unix:/path/to/memcached.sock`
      : { _tag: "Unix", path, name: text }
  }
  const scheme = schemeOf(text)
  if (typeof scheme === "string") return `"${input}": ${scheme}`
  const rest = scheme?.rest ?? text
  if (rest.startsWith("unix:")) return `"${input}": a unix socket is written without a scheme: write ${rest}`
  const spaced = /^(\S+)\s+(\d+)$/.exec(rest)
  if (spaced !== null) {
    return `"${input}": whitespace in an address: write ${spaced[1]}:${spaced[2]} (host:port, with a colon)`
  }
  if (/\s/.test(rest)) return `"${input}": whitespace in an address: write ${FORMS}, with no spaces`
  return parseTcp(input, rest, scheme?.tls ?? false)
}
