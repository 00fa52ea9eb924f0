import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "@effect/vitest"
import { Memcache, MemcacheMemory } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { rawCommand, useMemcached } from "../../../testing/Memcached.ts"

const root = path.resolve(import.meta.dirname, "../../..")

/** The first ```ts block under the README heading `## <heading>`. */
const readmeBlock = (heading: string): string => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
  const section = readme.split(/^## /m).find((part) => part.startsWith(`${heading}\n`))
  const block = section?.match(/^```ts\n([\s\S]*?)^```$/m)?.[1]
  if (block === undefined) throw new Error(`README.md has no \`\`\`ts block under "## ${heading}"`)
  return block
}

interface Run {
  readonly exitCode: number | null
  readonly stdout: string
  readonly stderr: string
}

const exec = (file: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  new Promise<Run>((resolve) => {
    execFile(file, args, { cwd, env, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ exitCode: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
    )
  })

/**
 * Runs a TypeScript program as a user would: compiled by the workspace's tsc, then run by node in a folder of
 * its own whose node_modules are the demo's (the built packages, effect, @effect/platform-node). Needs the build.
 */
const runProgram = async (source: string, env: Record<string, string>): Promise<Run> => {
  if (!fs.existsSync(path.join(root, "packages/client/dist/index.js")))
    throw new Error("the packages are not built: run `npx -y pnpm@12.4.2 run build` first")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readme-example-"))
  try {
    fs.symlinkSync(path.join(root, "examples/node_modules"), path.join(dir, "node_modules"), "dir")
    fs.writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }\n')
    fs.writeFileSync(path.join(dir, "main.ts"), source)
    const tscArgs = ["main.ts", "--module", "nodenext", "--target", "es2022", "--strict", "--skipLibCheck"]
    const compiled = await exec(path.join(root, "node_modules/.bin/tsc"), [...tscArgs, "--types", "node"], dir)
    if (compiled.exitCode !== 0) return compiled
    return await exec(process.execPath, ["main.js"], dir, { ...process.env, ...env })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const memcached = useMemcached()

it("the README's Use snippet runs as a program: it stores a value on the server and prints it", async () => {
  const server = memcached()
  // The snippet names the default address; it runs against the test's server instead.
  const source = readmeBlock("Use").replaceAll('"127.0.0.1:11211"', JSON.stringify(server.address))
  const run = await runProgram(source, { MEMCACHE_SERVERS: server.address })
  expect(run).toEqual({ exitCode: 0, stdout: "hello\n", stderr: "" })
  const stored = await rawCommand(server, "get greeting\r\n", { until: (reply) => reply.includes("END\r\n") })
  expect(stored.toString()).toMatch(/^VALUE greeting \d+ 5\r\nhello\r\nEND\r\n$/)
})

it("a program that fails or does not compile fails the run", async () => {
  const failing = await runProgram(
    'import { NodeRuntime } from "@effect/platform-node"\nimport { Effect } from "effect"\nNodeRuntime.runMain(Effect.fail("boom"))\n',
    {}
  )
  expect(failing.exitCode).toBe(1)
  expect(failing.stdout + failing.stderr).toContain("boom")
  const untyped = await runProgram('const n: number = "one"\nconsole.log(n)\n', {})
  expect(untyped.exitCode).not.toBe(0)
  expect(untyped.stdout).toContain("TS2322")
})

it.effect("the README's in-memory example: expires", () =>
  Effect.gen(function* () {
    const cache = yield* Memcache.Memcache
    yield* cache.set("k", "v", { ttl: "10 seconds" })
    expect(yield* cache.get("k")).toEqual(Option.some("v"))
    yield* TestClock.adjust("11 seconds")
    expect(yield* cache.get("k")).toEqual(Option.none())
  }).pipe(Effect.provide(MemcacheMemory.layer()))
)
