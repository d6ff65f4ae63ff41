'use strict'

// `npm install` hook: use a prebuilt binary when one loads, else build from source.
// A clone (or a platform without a prebuilt package) needs Rust; nothing is downloaded
// but crates from crates.io.

const { execFileSync } = require('node:child_process')
const { copyFileSync, renameSync } = require('node:fs')
const { join } = require('node:path')
const { platformTriple } = require('../lib/shared/platform')

const root = join(__dirname, '..')

function prebuiltLoads() {
  try {
    require(`async-baton-${platformTriple()}`)
    return true
  } catch {
    return false
  }
}

function libraryFile() {
  if (process.platform === 'win32') return 'baton.dll'
  if (process.platform === 'darwin') return 'libbaton.dylib'
  return 'libbaton.so'
}

function build() {
  try {
    execFileSync('cargo', ['build', '--release', '--locked'], { cwd: root, stdio: 'inherit' })
  } catch (error) {
    console.error(
      `baton: no prebuilt binary for ${platformTriple()} and building from source failed (${error.message}).\n` +
        'Building needs a Rust toolchain (https://rustup.rs).',
    )
    process.exit(1)
  }
  const built = join(root, 'target', 'release', libraryFile())
  const target = join(root, `baton.${platformTriple()}.node`)
  // Copy then rename: a process that has the old binary loaded keeps its own file.
  copyFileSync(built, `${target}.tmp`)
  renameSync(`${target}.tmp`, target)
}

if (require.main === module) {
  if (process.argv.includes('--force') || !prebuiltLoads()) build()
}
