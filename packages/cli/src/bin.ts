#!/usr/bin/env node
/**
 * The `memcache` executable: runs `Cli.run` on Node. A failure prints one line (`memcache: <message>`) on stderr
 * and exits 1; a usage error prints the command's help and the error, and exits 1.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Console from "effect/Console"
import * as CliError from "effect/cli/CliError"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import * as Cli from "./Cli.ts"

const messageOf = (error: unknown): string =>
  error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { readonly message: unknown }).message)
    : String(error)

const main = Cli.run.pipe(
  Effect.tapError((error) =>
    // The CLI module already printed its own errors (usage, with the help).
    CliError.isCliError(error) ? Effect.void : Console.error(`memcache: ${messageOf(error).split("\n")[0]}`)
  ),
  // The client logs reconnect attempts as warnings; a one-shot command says why it failed instead. `--log-level`
  // shows them again (the CLI module provides its level inside this one).
  Effect.provideService(References.MinimumLogLevel, "Error"),
  Effect.provide(NodeServices.layer)
)

NodeRuntime.runMain(main, { disableErrorReporting: true })
