'use strict'

// Request-scoped logging with Express 5 and pino: a middleware runs the rest of each
// request inside requestId.run(id), and every line pino writes for it, in the
// handler, in a native task's callbacks and in a worker thread, carries that id.
//
//   node examples/express-pino.js            # listens on 127.0.0.1, a free port (PORT=...)
//   curl 'http://127.0.0.1:<port>/fib?n=5000'

const { randomUUID } = require('node:crypto')
const express = require('express')
const { WorkerPool } = require('..')
const { closeOnSignal, createLogger, work } = require('./logged-work')
const { requestId } = require('./request-context')

const MAX_N = 100_000
const logger = createLogger('express')
const pool = new WorkerPool({ filename: require.resolve('./log-worker'), minThreads: 2, maxThreads: 2 })
const app = express()

// next() runs the router, and so the handler, inside the run.
app.use((req, res, next) => requestId.run(randomUUID(), next))

app.get('/fib', async (req, res) => {
  const n = Number(req.query.n ?? 3000)
  if (!Number.isInteger(n) || n < 0 || n > MAX_N) return res.status(400).json({ error: `n must be an integer in [0, ${MAX_N}]` })
  res.json(await work(n, req.query.tag, logger, pool))
  logger.info({ hop: 'response', tag: req.query.tag })
})

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  logger.info({ msg: 'listening', url: `http://127.0.0.1:${server.address().port}/fib?n=5000` })
})
closeOnSignal(logger, async () => {
  await new Promise((resolve) => {
    server.close(resolve)
    server.closeAllConnections()
  })
  await pool.close()
})
