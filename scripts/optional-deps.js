'use strict'

// Writes the per-platform packages (npm/*/package.json) into a package.json as
// optionalDependencies at the root version: done at publish time only. The repository
// does not list them: before they are published they cannot be locked, and a clone
// must never install a binary package of that name from the registry.
//
//   node scripts/optional-deps.js [path/to/package.json]   (default: ./package.json)

const { readFileSync, readdirSync, writeFileSync } = require('node:fs')
const { join, resolve } = require('node:path')

const npmDir = join(__dirname, '..', 'npm')
const target = resolve(process.argv[2] ?? 'package.json')
const pkg = JSON.parse(readFileSync(target, 'utf8'))

pkg.optionalDependencies = {}
for (const dir of readdirSync(npmDir).sort()) {
  const { name } = JSON.parse(readFileSync(join(npmDir, dir, 'package.json'), 'utf8'))
  pkg.optionalDependencies[name] = pkg.version
}
writeFileSync(target, `${JSON.stringify(pkg, null, 2)}\n`)
console.log(`${target}: ${Object.keys(pkg.optionalDependencies).length} optional platform packages at ${pkg.version}`)
