/**
 * The command surface's settings: one plain record, made once per layer from the options and the backend, that
 * every part of the surface (retrieval, storage, keyed and admin commands) reads.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import type * as Key from "@effect-memcache/protocol/Key"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Duration from "effect/Duration"
import { type CallOptions, defaults, type SurfaceOptions } from "../Memcache.ts"
import { MemcacheIllegalInputError } from "../MemcacheError.ts"
import { illegal } from "./Call.ts"
import { GetBatcher } from "./GetBatcher.ts"
import { Instrument, type Span } from "./Instrument.ts"
import * as ProxyRules from "./ProxyRules.ts"
import type { Backend, Target } from "./Transport.ts"

/** @internal */
export interface Settings {
  readonly backend: Backend
  /** The target of a single-server backend: every key goes there, no routing needed. */
  readonly single: Target | undefined
  readonly prefix: string
  readonly defaultNoreply: boolean
  readonly ignoreErrors: boolean
  readonly limits: Validation.Limits
  readonly keyRules: Key.ValidateOptions
  readonly timeoutMillis: number
  readonly batching: boolean
  /** The longest get line a multi-key get sends (see `SurfaceOptions.maxGetLineBytes`). */
  readonly maxGetLineBytes: number
  readonly batcher: GetBatcher
  /** What the proxy in front of the servers forwards (`ProxyRules.direct` without one). */
  readonly proxy: ProxyRules.Rules
  readonly instrument: Instrument
  /** How the hot calls skip `Instrument.around` (see `Instrument.hotPath`), worked out once. */
  readonly hot: HotPaths
}

/** @internal */
export interface HotPaths {
  readonly get: Span | null | undefined
  readonly gets: Span | null | undefined
  readonly cas: Span | null | undefined
  readonly set: Span | null | undefined
  readonly add: Span | null | undefined
  readonly replace: Span | null | undefined
  readonly append: Span | null | undefined
  readonly prepend: Span | null | undefined
}

/** A duration option in milliseconds. */
export const toMillis = (input: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(input))

/** @internal */
/** The shortest get line allowed: one of the longest keys (250 bytes) with `gets ` and `\r\n`, rounded up. */
const MIN_GET_LINE_BYTES = 300

export const make = (
  backend: Backend,
  options: SurfaceOptions,
  proxy: ProxyRules.Rules = ProxyRules.direct
): Settings => {
  const allowUnicodeKeys = options.allowUnicodeKeys ?? defaults.allowUnicodeKeys
  const ignoreErrors = options.ignoreErrors ?? defaults.ignoreErrors
  const base64Keys = (options.protocol ?? defaults.protocol) === "meta"
  const limits: Validation.Limits = {
    itemSizeMax: options.itemSizeMax ?? defaults.itemSizeMax,
    allowUnicodeKeys,
    base64Keys
  }
  const maxGetLineBytes = Math.max(MIN_GET_LINE_BYTES, options.maxGetLineBytes ?? defaults.maxGetLineBytes)
  const instrument = new Instrument({
    spans: options.spans ?? defaults.spans,
    metrics: options.metrics ?? defaults.metrics,
    server: backend.targets.length === 1 ? backend.targets[0]!.name : undefined,
    retry: options.retry,
    retryUnsafe: options.retryUnsafe ?? defaults.retryUnsafe,
    ignoreErrors
  })
  return {
    backend,
    single: backend.targets.length === 1 ? backend.targets[0] : undefined,
    prefix: options.keyPrefix ?? defaults.keyPrefix,
    defaultNoreply: options.defaultNoreply ?? defaults.defaultNoreply,
    ignoreErrors,
    limits,
    keyRules: { allowUnicode: allowUnicodeKeys, base64: base64Keys },
    timeoutMillis: options.timeout === undefined ? defaults.timeoutMillis : toMillis(options.timeout),
    batching: options.batching ?? defaults.batching,
    maxGetLineBytes,
    batcher: new GetBatcher(limits, maxGetLineBytes),
    proxy,
    instrument,
    hot: {
      get: instrument.hotPath("get", true),
      gets: instrument.hotPath("gets", true),
      cas: instrument.hotPath("cas", true),
      set: instrument.hotPath("set", false),
      add: instrument.hotPath("add", false),
      replace: instrument.hotPath("replace", false),
      append: instrument.hotPath("append", false),
      prepend: instrument.hotPath("prepend", false)
    }
  }
}

/** The call's timeout in milliseconds. */
export const timeoutOf = (settings: Settings, o: { readonly timeout?: Duration.Input | undefined } | undefined) =>
  o?.timeout === undefined ? settings.timeoutMillis : toMillis(o.timeout)

/** The server of a key (routed without the key prefix, or by the call's `routingKey`). */
export const targetOf = (settings: Settings, key: string, o: CallOptions | undefined): Target =>
  settings.single ?? settings.backend.route(o?.routingKey ?? key)

/**
 * A command checked against the surface's limits and the proxy's rules: what to send, or why it cannot be sent.
 */
export const check = <C extends Command.Command>(
  settings: Settings,
  name: string,
  command: C
): Validation.Validated<C> | MemcacheIllegalInputError => {
  const refused = settings.proxy.refuse(command)
  if (refused !== undefined) return new MemcacheIllegalInputError({ command: name, field: "proxy", reason: refused })
  const result = Validation.validate(command, settings.limits)
  return Validation.isInvalid(result) ? illegal(name, result) : result
}

/** Whether {@link check} refused the command. */
export const isRefused = (checked: object): checked is MemcacheIllegalInputError =>
  checked instanceof MemcacheIllegalInputError
