'use strict'

// What the express-pino and fastify-pino examples share: a pino logger whose every line
// carries the request id of the current context (pino's `mixin`, reading a baton
// storage marked cloneIntoWorkers, so worker threads have it too), and the work of one
// request, logged at every hop: a native task in callback form (with progress from a
// Rust thread), the same task awaited, and a WorkerPool task whose worker logs itself.
// No id is ever passed in; `tag` is the client's own label, passed along by hand only
// so that a test can tell which request a line belongs to without trusting the store.

const { threadId } = require('node:worker_threads')
const pino = require('pino')
const { fibonacci } = require('..')
const { requestId } = require('./request-context')

/** Synchronous writes: each line is one write(2), whole, however many threads log. */
function createLogger(name) {
  return pino({ name, base: { pid: process.pid, thread: threadId }, mixin: () => ({ reqId: requestId.getStore() }) }, pino.destination({ fd: 1, sync: true }))
}

async function work(n, tag, logger, pool) {
  logger.info({ hop: 'request', tag, n })
  const fromCallback = await new Promise((resolve, reject) => {
    const onProgress = (fraction) => logger.info({ hop: 'progress', tag, fraction })
    fibonacci(n, { onProgress }, (error, value) => {
      logger.info({ hop: 'callback', tag })
      if (error) reject(error)
      else resolve(value)
    })
  })
  const fromPromise = await fibonacci(n)
  logger.info({ hop: 'await', tag })
  if (fromPromise !== fromCallback) throw new Error('the callback and Promise forms disagree')
  const digits = fromPromise.toString()
  const digitSum = await pool.run({ digits, tag })
  logger.info({ hop: 'after worker', tag, digitSum })
  return { reqId: requestId.getStore(), tag, n, digits: digits.length, digitSum }
}

/** Closes `server` and `pool` on SIGTERM or SIGINT, logging before and after. */
function closeOnSignal(logger, close) {
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, async () => {
      logger.info({ msg: 'closing', signal })
      await close()
      logger.info({ msg: 'closed' })
    })
  }
}

module.exports = { closeOnSignal, createLogger, work }
