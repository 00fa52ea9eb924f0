/**
 * How the client words its log lines and the details of its connection errors: the server named once (an
 * error's message already starts with it, so a line that names the server quotes the rest), and durations in
 * whole milliseconds (a jittered schedule's delays are fractions).
 *
 * @internal
 */

/** An error's message without the `server: ` it starts with, for a line or detail that names the server itself. */
export const withoutServer = (error: { readonly message: string }, server: string): string =>
  error.message.startsWith(`${server}: `) ? error.message.slice(server.length + 2) : error.message

/** A duration as whole milliseconds, rounded up (a wait of 455.99 ms is "456 ms", never "455 ms"). */
export const millis = (ms: number): string => `${Math.ceil(ms)} ms`
