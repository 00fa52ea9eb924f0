/**
 * A frozen copy of the build the benchmark measures. The workers of a run start over several minutes, and the
 * workspace's `dist` folders can be rebuilt meanwhile; so the run copies the bench's and the workspace packages'
 * compiled code to a temporary folder once, and every worker runs from there (the npm peers and `effect` are
 * linked, not copied: they do not change).
 *
 * @since 0.1.0
 */

import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/**
 * A snapshot: where its worker is, which commit it was taken from, and how to remove it.
 *
 * @example
 * ```ts
 * import type { Snapshot } from "./Snapshot.ts"
 * const where = (s: Snapshot) => s.workerPath
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly workerPath: string
  /** `git describe`-like identity of the source: the commit, and whether packages/ had uncommitted changes. */
  readonly source: string
  readonly dispose: () => void
}

const workspacePackages = ["client", "protocol"] as const
const linkedDependencies = ["effect", "memjs", "memcache-client", "memcached"] as const

const sourceOf = (repoRoot: string): string => {
  try {
    const git = (...args: Array<string>) => execFileSync("git", ["-C", repoRoot, ...args], { encoding: "utf8" }).trim()
    const commit = git("rev-parse", "--short", "HEAD")
    const dirty = git("status", "--porcelain", "--", "packages").length > 0
    return dirty ? `${commit} + uncommitted changes in packages/` : commit
  } catch {
    return "unknown (no git)"
  }
}

/**
 * Copies `bench/dist` and each workspace package's `package.json` and `dist` into a temporary folder laid out
 * like the repository, links the other dependencies, and records the source commit.
 *
 * @example
 * ```ts
 * import { takeSnapshot } from "./Snapshot.ts"
 * const snapshot = takeSnapshot("/work/main")
 * snapshot.dispose()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const takeSnapshot = (repoRoot: string): Snapshot => {
  const root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-memcache-bench-"))
  const bench = Path.join(root, "bench")
  const modules = Path.join(bench, "node_modules")
  Fs.cpSync(Path.join(repoRoot, "bench", "dist"), Path.join(bench, "dist"), { recursive: true })
  Fs.copyFileSync(Path.join(repoRoot, "bench", "package.json"), Path.join(bench, "package.json"))
  for (const name of workspacePackages) {
    const from = Path.join(repoRoot, "packages", name)
    const to = Path.join(modules, "@effect-memcache", name)
    Fs.cpSync(Path.join(from, "dist"), Path.join(to, "dist"), { recursive: true })
    Fs.copyFileSync(Path.join(from, "package.json"), Path.join(to, "package.json"))
  }
  for (const name of linkedDependencies) {
    Fs.symlinkSync(Fs.realpathSync(Path.join(repoRoot, "bench", "node_modules", name)), Path.join(modules, name))
  }
  return {
    workerPath: Path.join(bench, "dist", "worker.js"),
    source: sourceOf(repoRoot),
    dispose: () => Fs.rmSync(root, { recursive: true, force: true })
  }
}
