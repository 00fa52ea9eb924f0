#!/usr/bin/env node
// Installs the packages the way a user outside the workspace does, and runs them: `pnpm pack` of each package,
// a fresh app in a temporary folder, `npm install` of the two tarballs beside the newest effect 4.1.x, a
// type-check of a small program under strict + exactOptionalPropertyTypes (no skipLibCheck), and a run of it
// against a memcached started here. Run it through `pnpm run check:install`, which builds first.
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const work = fs.mkdtempSync(path.join(os.tmpdir(), "effect-memcache-install-"))
const app = path.join(work, "app")

const run = (command, args, cwd) => {
  console.log(`$ ${[command, ...args].join(" ")}`)
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const waitForPort = async (port) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`memcached did not listen on ${port}`)
}

const program = `import { Memcache, MemcacheClient } from "@effect-memcache/client"
import { Effect, Option } from "effect"

const port = Number(process.env.MEMCACHED_PORT)
const main = Effect.gen(function* () {
  const cache = yield* Memcache.Memcache
  yield* cache.set("install:greeting", "hello from a packed install", { ttl: "1 minute" })
  const hit: Option.Option<Memcache.Value> = yield* cache.get("install:greeting")
  const added: boolean = yield* cache.add("install:greeting", "again", { noreply: false })
  return { hit: Option.getOrNull(hit), added }
})

const result = await Effect.runPromise(
  main.pipe(Effect.provide(MemcacheClient.layer({ server: \`127.0.0.1:\${port}\` })))
)
console.log(JSON.stringify(result))
`

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    types: ["node"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: false,
    outDir: "dist"
  },
  include: ["main.ts"]
}

let memcached
try {
  fs.mkdirSync(app, { recursive: true })
  for (const pkg of ["protocol", "client"]) {
    run("npx", ["-y", "pnpm@12.4.2", "pack", "--pack-destination", work], path.join(root, "packages", pkg))
  }
  const tarballs = fs.readdirSync(work).filter((file) => file.endsWith(".tgz"))
  for (const tarball of tarballs) {
    const files = run("tar", ["tzf", path.join(work, tarball)], work).split("\n")
    for (const required of [
      "package/README.md",
      "package/LICENSE",
      "package/dist/index.js",
      "package/dist/index.d.ts"
    ]) {
      if (!files.includes(required)) throw new Error(`${tarball} lacks ${required}`)
    }
  }
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }))
  fs.writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify(tsconfig, null, 2))
  fs.writeFileSync(path.join(app, "main.ts"), program)
  run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      ...tarballs.map((tarball) => path.join(work, tarball)),
      "effect@~4.1.0",
      "typescript@7.0.2",
      "@types/node@22"
    ],
    app
  )
  const effects = run("npm", ["ls", "effect", "--all", "--parseable"], app)
    .split("\n")
    .filter((line) => line.trim() !== "")
  if (new Set(effects).size !== 1) throw new Error(`more than one copy of effect:\n${effects.join("\n")}`)
  const installed = JSON.parse(fs.readFileSync(path.join(app, "node_modules/effect/package.json"), "utf8")).version
  console.log(`one copy of effect: ${installed}`)
  run(path.join(app, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], app)

  const port = await freePort()
  const args = ["-p", String(port), "-l", "127.0.0.1", "-U", "0"]
  if (process.getuid?.() === 0) args.push("-u", "nobody")
  memcached = spawn("memcached", args, { stdio: "ignore" })
  await waitForPort(port)
  const output = execFileSync("node", ["dist/main.js"], {
    cwd: app,
    encoding: "utf8",
    env: { ...process.env, MEMCACHED_PORT: String(port) }
  }).trim()
  console.log(output)
  const result = JSON.parse(output)
  if (result.hit !== "hello from a packed install" || result.added !== false) {
    throw new Error(`unexpected result from the installed package: ${output}`)
  }
  console.log("the packed packages install, type-check and run in a fresh app")
} finally {
  memcached?.kill()
  fs.rmSync(work, { recursive: true, force: true })
}
