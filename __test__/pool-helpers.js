'use strict'

// Shared by the pool-*.test.js files.
const { execFile } = require('node:child_process')
const { once } = require('node:events')
const { join } = require('node:path')
const { promisify } = require('node:util')
const { BroadcastChannel } = require('node:worker_threads')

const fixtures = join(__dirname, 'fixtures', 'pool')
const TASKS = join(fixtures, 'tasks.js')

/** Messages that handlers in fixtures/pool/tasks.js post; `next(predicate)` waits for one. */
function listen() {
  const channel = new BroadcastChannel('baton-pool-test')
  const seen = []
  const waiters = []
  channel.onmessage = ({ data }) => {
    seen.push(data)
    for (const waiter of waiters.splice(0)) {
      if (waiter.predicate(data)) waiter.resolve(data)
      else waiters.push(waiter)
    }
  }
  return {
    seen,
    next(predicate) {
      const found = seen.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    /** Lets the `gated` task `id` finish. */
    release: (id) => channel.postMessage({ release: id }),
    close: () => channel.close(),
  }
}

/** Resolves on the pool's next event `name`. */
const nextEvent = (pool, name) => once(pool, name)

/** Runs a fixture script in a child process (not blocking this event loop) and resolves with its stdout. */
async function runScript(file) {
  const { stdout } = await promisify(execFile)(process.execPath, [join(fixtures, file)], { encoding: 'utf8', timeout: 30_000 })
  return stdout
}

module.exports = { TASKS, fixtures, listen, nextEvent, runScript }
