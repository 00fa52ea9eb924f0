/**
 * What a failed socket means to a caller: node:net and node:tls error codes as a `MemcacheConnectionError`
 * reason (refused, reset, DNS, TLS).
 *
 * @internal
 */
import { MemcacheConnectionError } from "../MemcacheError.ts"

/**
 * OpenSSL's certificate verification failures, as node:tls reports them in `code`. Not all of them mention
 * CERT: an untrusted server certificate is `UNABLE_TO_VERIFY_LEAF_SIGNATURE`.
 */
const CERTIFICATE_ERRORS = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH"
])

const reasonOf = (error: unknown): MemcacheConnectionError["reason"] => {
  const code = (error as { code?: unknown } | undefined)?.code
  switch (code) {
    case "ECONNREFUSED":
    case "ENOENT":
      return "refused"
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return "reset"
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
      return "dns"
  }
  if (
    typeof code === "string" &&
    (code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || CERTIFICATE_ERRORS.has(code) || code.includes("CERT"))
  )
    return "tls"
  return "other"
}

/**
 * What went wrong, without the address node:net appends to a system error's message (`connect ECONNREFUSED
 * 127.0.0.1:11211` is `connect ECONNREFUSED`): the error already names its server.
 */
const detailOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const syscall = "syscall" in error ? error.syscall : undefined
  const code = "code" in error ? error.code : undefined
  return typeof syscall === "string" && typeof code === "string" ? `${syscall} ${code}` : error.message
}

/** A socket's `error` event as the typed failure of the requests on it. */
export const socketFailure = (server: string, error: unknown): MemcacheConnectionError =>
  new MemcacheConnectionError({ server, reason: reasonOf(error), detail: detailOf(error) })
