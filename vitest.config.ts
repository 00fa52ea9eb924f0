import * as path from "node:path"
import { defineConfig } from "vitest/config"
import "./testing/node20.ts"

const packages = path.join(import.meta.dirname, "packages")
const testing = path.join(import.meta.dirname, "testing")

// Inside the workspace, tests run against the TypeScript sources. The packages' exports maps point at dist/
// (what a consumer of the built package gets), so these aliases send workspace imports to src/ instead.
const alias = [
  { find: /^@effect-memcache\/(protocol|client)$/, replacement: `${packages}/$1/src/index.ts` },
  { find: /^@effect-memcache\/(protocol|client)\/(.*)$/, replacement: `${packages}/$1/src/$2.ts` }
]

const project = (name: string, root: string) => ({
  resolve: { alias },
  test: {
    name,
    root,
    include: ["test/**/*.test.ts"],
    setupFiles: [path.join(testing, "node20.ts")],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})

export default defineConfig({
  // The packages' tests, and the tests of the harness they run on (memcached processes, the fault proxy).
  test: {
    projects: [
      project("protocol", path.join(packages, "protocol")),
      project("client", path.join(packages, "client")),
      project("cli", path.join(packages, "cli")),
      project("testing", testing)
    ]
  }
})
