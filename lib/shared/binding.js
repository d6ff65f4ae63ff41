'use strict'

// Loads the native addon: a binary built from source in the package folder first
// (`npm install` on a clone, see scripts/install.js), then the prebuilt binary of the
// per-platform package `async-baton-<platform>`, an optional dependency.

const { existsSync } = require('node:fs')
const { join } = require('node:path')
const { getEnvironmentData, setEnvironmentData } = require('node:worker_threads')
const { codes } = require('./errors')
const { platformTriple } = require('./platform')

// The file loaded, handed to the worker threads started after it (environment data is
// copied into each new worker): finding it again means telling glibc from musl by a
// process report, which costs every worker of a pool milliseconds and half a MiB. Keyed
// by this copy of the package, so that another copy in the process loads its own.
const LOADED = `baton.binary:${join(__dirname, '..', '..')}`

function load() {
  const loaded = getEnvironmentData(LOADED)
  if (typeof loaded === 'string') {
    try {
      return require(loaded)
    } catch {} // moved or removed since: look for it as the first thread did
  }
  const triple = platformTriple()
  const local = join(__dirname, '..', '..', `baton.${triple}.node`)
  const candidates = existsSync(local) ? [local] : []
  candidates.push(`async-baton-${triple}`)
  const failures = []
  for (const candidate of candidates) {
    try {
      const binding = require(candidate)
      setEnvironmentData(LOADED, require.resolve(candidate))
      return binding
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
