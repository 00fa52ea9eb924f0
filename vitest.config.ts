import * as path from "node:path"
import { defineConfig } from "vitest/config"
import "./testing/node20.ts"

const packages = path.join(import.meta.dirname, "packages")

// Inside the workspace, tests run against the TypeScript sources. The packages' exports maps point at dist/
// (what a consumer of the built package gets), so these aliases send workspace imports to src/ instead.
const alias = [
  { find: /^@effect-memcache\/(protocol|client)$/, replacement: `${packages}/$1/src/index.ts` },
  { find: /^@effect-memcache\/(protocol|client)\/(.*)$/, replacement: `${packages}/$1/src/$2.ts` }
]

const project = (name: string) => ({
  resolve: { alias },
  test: {
    name,
    root: path.join(packages, name),
    include: ["test/**/*.test.ts"],
    setupFiles: [path.join(import.meta.dirname, "testing/node20.ts")],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})

export default defineConfig({
  test: { projects: [project("protocol"), project("client")] }
})
