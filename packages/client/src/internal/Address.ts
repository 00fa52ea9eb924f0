/**
 * Server address forms: `host:port`, `[::1]:port`, `host` (port 11211) and `unix:/path`.
 *
 * @internal
 */

/** @internal */
export type ServerAddress =
  | { readonly _tag: "Tcp"; readonly host: string; readonly port: number; readonly name: string }
  | { readonly _tag: "Unix"; readonly path: string; readonly name: string }

/** memcached's default port. @internal */
export const DEFAULT_PORT = 11211

/**
 * Parses one address, or returns why it cannot be parsed.
 *
 * @internal
 */
export const parse = (input: string): ServerAddress | string => {
  const text = input.trim()
  if (text.startsWith("unix:")) {
    const path = text.slice(5)
    return path === "" ? `"${input}": empty unix socket path` : { _tag: "Unix", path, name: text }
  }
  let host: string
  let portText: string | undefined
  if (text.startsWith("[")) {
    const end = text.indexOf("]")
    if (end < 0) return `"${input}": missing "]"`
    host = text.slice(1, end)
    const rest = text.slice(end + 1)
    if (rest !== "" && !rest.startsWith(":")) return `"${input}": expected ":port" after "]"`
    portText = rest === "" ? undefined : rest.slice(1)
  } else {
    const colon = text.lastIndexOf(":")
    if (colon >= 0 && text.indexOf(":") !== colon) return `"${input}": an IPv6 address must be written [addr]:port`
    host = colon < 0 ? text : text.slice(0, colon)
    portText = colon < 0 ? undefined : text.slice(colon + 1)
  }
  if (host === "") return `"${input}": empty host`
  const port = portText === undefined ? DEFAULT_PORT : Number(portText)
  if (!Number.isInteger(port) || port < 1 || port > 65535 || (portText !== undefined && !/^\d+$/.test(portText)))
    return `"${input}": invalid port`
  const name = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`
  return { _tag: "Tcp", host, port, name }
}
