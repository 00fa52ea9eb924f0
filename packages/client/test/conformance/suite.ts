/**
 * The conformance suite: one set of behaviour tests that the real client against a real memcached and the
 * in-memory layer must both pass. Any difference between the two is a bug in the in-memory server.
 */
import { commands } from "./commands.ts"
import { expiry } from "./expiry.ts"
import { meta } from "./meta.ts"
import { rawView } from "./rawView.ts"
import type { Subject } from "./Subject.ts"
import { timing } from "./timing.ts"

export type { Subject, TestContext } from "./Subject.ts"

/** Registers every conformance test for `subject`, in order (flushes last: they clear the whole server). */
export const conformance = (subject: Subject): void => {
  commands(subject)
  expiry(subject)
  meta(subject)
  rawView(subject)
  timing(subject)
}
