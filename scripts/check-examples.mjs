#!/usr/bin/env node
// Type-checks every ```ts block of the READMEs (the project's and each package's), of docs/, and of the JSDoc in
// packages/*/src (the @example blocks),
// each as a module of its own, importing the built packages the way a user's program does. Run it through
// `pnpm run check:examples`, which builds first. The snippets land in .examples/ (git-ignored), one file per
// block, named after where it came from, so that a failure can be opened and read as tsc saw it.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const out = path.join(root, ".examples")
const snippetsDir = path.join(out, "snippets")

const sources = () => [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "packages"))
    .map((pkg) => path.join("packages", pkg, "README.md"))
    .filter((file) => fs.existsSync(path.join(root, file))),
  ...fs
    .readdirSync(path.join(root, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => path.join("docs", file))
    .sort(),
  ...fs
    .readdirSync(path.join(root, "packages"))
    .flatMap((pkg) => {
      const src = path.join("packages", pkg, "src")
      if (!fs.existsSync(path.join(root, src))) return []
      return fs.readdirSync(path.join(root, src), { recursive: true }).map((file) => path.join(src, String(file)))
    })
    .filter((file) => file.endsWith(".ts"))
    .sort()
]

/** The ```ts blocks of a file, each with the line number (1-based) of its opening fence. */
const blocks = (file) => {
  const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n")
  const inComments = file.endsWith(".ts")
  const found = []
  let current
  lines.forEach((raw, index) => {
    // In a source file, only comment lines count, without their leading " * ".
    if (inComments && !/^\s*\*( |$)/.test(raw)) return
    const line = inComments ? raw.replace(/^\s*\* ?/, "") : raw
    if (current === undefined) {
      if (/^```ts\s*$/.test(line)) current = { file, line: index + 1, code: [] }
    } else if (/^```\s*$/.test(line)) {
      found.push({ ...current, code: current.code.join("\n") })
      current = undefined
    } else current.code.push(line)
  })
  if (current !== undefined) throw new Error(`${file}:${current.line}: a \`\`\`ts block is never closed`)
  return found
}

const snippetName = (block) => `${block.file.replaceAll("/", "-")}-L${block.line}.ts`

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    moduleDetection: "force",
    verbatimModuleSyntax: true,
    strict: true,
    exactOptionalPropertyTypes: true,
    noUnusedLocals: false,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"]
  },
  include: ["snippets/*.ts"]
}

// The workspace packages are linked into .examples/node_modules, so that imports resolve through the packages'
// exports maps to their built declarations (internal modules stay out of reach, as for a user); effect,
// @effect/vitest and @effect/platform-node resolve from the root node_modules.
const setUp = (all) => {
  fs.rmSync(snippetsDir, { recursive: true, force: true })
  fs.mkdirSync(snippetsDir, { recursive: true })
  fs.mkdirSync(path.join(out, "node_modules", "@effect-memcache"), { recursive: true })
  for (const pkg of ["protocol", "client"]) {
    const link = path.join(out, "node_modules", "@effect-memcache", pkg)
    if (!fs.existsSync(path.join(root, "packages", pkg, "dist", "index.d.ts")))
      throw new Error(`packages/${pkg} is not built: run \`pnpm run build\` first`)
    if (!fs.existsSync(link)) fs.symlinkSync(path.join("..", "..", "..", "packages", pkg), link, "dir")
  }
  fs.writeFileSync(path.join(out, "tsconfig.json"), `${JSON.stringify(tsconfig, null, 2)}\n`)
  for (const block of all) fs.writeFileSync(path.join(snippetsDir, snippetName(block)), `${block.code}\n`)
}

const all = sources().flatMap(blocks)
setUp(all)
const byName = new Map(all.map((block) => [snippetName(block), block]))

const tsc = path.join(root, "node_modules", ".bin", "tsc")
const result = spawnSync(tsc, ["-p", path.join(out, "tsconfig.json"), "--pretty", "false"], {
  cwd: root,
  encoding: "utf8"
})
if (result.error) throw result.error

// tsc reports `.examples/snippets/<name>(line,col): error TSnnnn: message`, continued on indented lines; each
// position is given as the README or source line the snippet came from, then as the snippet's own.
const report = `${result.stdout}${result.stderr}`.replace(
  /^\.examples\/snippets\/([^(\s]+)\((\d+),(\d+)\)/gm,
  (whole, name, line, column) => {
    const block = byName.get(name)
    if (block === undefined) return whole
    return `${block.file}:${block.line + Number(line)} (.examples/snippets/${name}:${line}:${column})`
  }
)

if (result.status !== 0) {
  process.stderr.write(report)
  const failed = new Set([...report.matchAll(/\(\.examples\/snippets\/([^:)]+):/g)].map((match) => match[1]))
  console.error(failed.size > 0 ? `\n${failed.size} of ${all.length} examples do not compile` : "\ntsc failed")
  process.exit(1)
}
console.log(`${all.length} examples compile (the READMEs, docs/ and the JSDoc of packages/*/src)`)
