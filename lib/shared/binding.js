'use strict'

// Loads the native addon: a binary built from source in the package folder first
// (`npm install` on a clone, see scripts/install.js), then the prebuilt binary of the
// per-platform package `baton-<platform>`, an optional dependency.

const { existsSync } = require('node:fs')
const { join } = require('node:path')
const { codes } = require('./errors')
const { platformTriple } = require('./platform')

function load() {
  const triple = platformTriple()
  const local = join(__dirname, '..', '..', `baton.${triple}.node`)
  const candidates = existsSync(local) ? [local] : []
  candidates.push(`baton-${triple}`)
  const failures = []
  for (const candidate of candidates) {
    try {
      return require(candidate)
    } catch (error) {
      failures.push(`${candidate}: ${error.message}`)
    }
  }
  const error = new Error(
    `baton has no native binary for ${triple}. Tried:\n  ${failures.join('\n  ')}\n` +
      'Install with optional dependencies, or build from source with Rust installed: npm run build',
  )
  error.code = codes.NO_BINARY
  throw error
}

module.exports = load()
