// Fails when a source module has more than 400 lines of code (blank lines and comment-only lines aside), the
// project's bound for a module a newcomer can read; prints the longest modules either way. Functions are bounded
// (80 lines) by Biome's noExcessiveLinesPerFunction, in biome.json.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const root = join(import.meta.dirname, "..")
const MAX = 400

const sources = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith(".ts") ? [path] : []
  })

/** Lines that hold code: not blank, not inside a block comment, not a line comment. */
const linesOfCode = (text) => {
  let code = 0
  let inBlock = false
  for (const raw of text.split("\n")) {
    let line = raw.trim()
    if (inBlock) {
      const end = line.indexOf("*/")
      if (end < 0) continue
      inBlock = false
      line = line.slice(end + 2).trim()
    }
    while (line.startsWith("/*")) {
      const end = line.indexOf("*/", 2)
      if (end < 0) {
        inBlock = true
        line = ""
        break
      }
      line = line.slice(end + 2).trim()
    }
    if (line === "" || line.startsWith("//")) continue
    code++
  }
  return code
}

const packages = join(root, "packages")
const counts = readdirSync(packages)
  .flatMap((pkg) => sources(join(packages, pkg, "src")))
  .map((path) => ({ path: relative(root, path), code: linesOfCode(readFileSync(path, "utf8")) }))
  .sort((a, b) => b.code - a.code)

for (const { path, code } of counts.slice(0, 5)) console.log(`${String(code).padStart(5)}  ${path}`)
const over = counts.filter((c) => c.code > MAX)
for (const { path, code } of over) console.error(`${path}: ${code} lines of code, more than ${MAX}`)
if (over.length > 0) process.exit(1)
console.log(`${counts.length} modules, none over ${MAX} lines of code`)
