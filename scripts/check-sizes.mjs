// Fails when a source module has more than 400 lines of code (blank lines and comment-only lines aside), the
// project's bound for a module a newcomer can read, or when a class method has more than 80 lines (blank lines
// aside); prints the longest modules and methods either way. Functions and arrow functions are bounded at 80
// lines by Biome's noExcessiveLinesPerFunction (biome.json), which does not look at class methods.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const root = join(import.meta.dirname, "..")
const MAX = 400
const MAX_METHOD = 80

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

// A method starts on a line indented like a class member (two spaces, as Biome formats) that names it and opens
// its parameter list (a call with a literal first argument is not one), and opens its body on that line or, with
// its parameters on lines of their own, on the line that closes them; it ends at the next line that is only a
// closing brace at that indentation.
const METHOD_START =
  /^ {2}(?:(?:private|protected|public|static|async|override|get|set) )*[A-Za-z_$][\w$]*(?:<[^>]*>)?\((?:[\w$.{[)]|$)/

const bodyStart = (lines, i) => {
  if (lines[i].endsWith("{")) return i
  if (!lines[i].endsWith("(")) return -1
  for (let j = i + 1; j < lines.length; j++) if (/^ {2}\S/.test(lines[j])) return /^ {2}\).*\{$/.test(lines[j]) ? j : -1
  return -1
}

const methods = (path, text) => {
  const lines = text.split("\n")
  const found = []
  for (let i = 0; i < lines.length; i++) {
    if (!METHOD_START.test(lines[i])) continue
    const body = bodyStart(lines, i)
    if (body < 0) continue
    let end = body + 1
    while (end < lines.length && lines[end] !== "  }") end++
    if (end === lines.length) continue
    const length = lines.slice(i, end + 1).filter((line) => line.trim() !== "").length
    found.push({ where: `${path}:${i + 1}`, name: lines[i].trim().split("(")[0], length })
    i = end
  }
  return found
}

const packages = join(root, "packages")
const counts = readdirSync(packages)
  .flatMap((pkg) => sources(join(packages, pkg, "src")))
  .map((path) => ({ path: relative(root, path), code: linesOfCode(readFileSync(path, "utf8")) }))
  .sort((a, b) => b.code - a.code)

const allMethods = counts
  .flatMap(({ path }) => methods(path, readFileSync(join(root, path), "utf8")))
  .sort((a, b) => b.length - a.length)

for (const { path, code } of counts.slice(0, 5)) console.log(`${String(code).padStart(5)}  ${path}`)
for (const { where, name, length } of allMethods.slice(0, 3))
  console.log(`${String(length).padStart(5)}  ${where} ${name}`)
const over = counts.filter((c) => c.code > MAX)
for (const { path, code } of over) console.error(`${path}: ${code} lines of code, more than ${MAX}`)
const long = allMethods.filter((m) => m.length > MAX_METHOD)
for (const { where, name, length } of long)
  console.error(`${where}: method ${name} has ${length} lines, more than ${MAX_METHOD}`)
if (over.length > 0 || long.length > 0) process.exit(1)
console.log(`${counts.length} modules, none over ${MAX} lines of code; no method over ${MAX_METHOD} lines`)
