'use strict'

// Shared by the pool-*.test.js files.
const { once } = require('node:events')
const { join } = require('node:path')
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
    close: () => channel.close(),
  }
}

/** Resolves on the pool's next event `name`. */
const nextEvent = (pool, name) => once(pool, name)

module.exports = { TASKS, fixtures, listen, nextEvent }
