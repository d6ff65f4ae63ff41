'use strict'

const { setTimeout: sleep } = require('node:timers/promises')

/**
 * Calls `start(callback)` and resolves with the arguments of the first call to
 * `callback`, after waiting `settleMs` more so that a second call would be seen:
 * `{ args, calls }` where `calls` counts every call made by then.
 */
function callbackOutcome(start, settleMs = 30) {
  return new Promise((resolve) => {
    let calls = 0
    let first
    start((...args) => {
      calls += 1
      if (calls > 1) return
      first = args
      sleep(settleMs).then(() => resolve({ args: first, calls }))
    })
  })
}

/**
 * Whether Node runs its async_hooks engine here (20/22, or 24+ with
 * --no-async-context-frame), as the probe that picks baton's engine found it (its
 * test is in context-divergences.test.js).
 */
const hooksEngine = require('../lib/context/engine').engine === 'async_hooks'

module.exports = { callbackOutcome, hooksEngine }
