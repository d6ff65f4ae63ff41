'use strict'

// Request-scoped logging with Fastify 5 and pino: an onRequest hook runs the rest of
// each request inside requestId.run(request.id), and every line pino writes for it,
// in the handler, in a native task's callbacks and in a worker thread, carries that id.
//
//   node examples/fastify-pino.js            # listens on 127.0.0.1, a free port (PORT=...)
//   curl 'http://127.0.0.1:<port>/fib?n=5000'

const Fastify = require('fastify')
const { WorkerPool } = require('..')
const { closeOnSignal, createLogger, work } = require('./logged-work')
const { requestId } = require('./request-context')

const MAX_N = 100_000
const logger = createLogger('fastify')
const pool = new WorkerPool({ filename: require.resolve('./log-worker'), minThreads: 2, maxThreads: 2 })
const app = Fastify()

// done() runs the later hooks and the handler inside the run; the id is Fastify's own.
app.addHook('onRequest', (request, reply, done) => requestId.run(request.id, done))

app.get('/fib', {
  schema: { querystring: { type: 'object', properties: { n: { type: 'integer', minimum: 0, maximum: MAX_N, default: 3000 }, tag: { type: 'string' } } } },
  handler: async (request) => {
    const result = await work(request.query.n, request.query.tag, logger, pool)
    logger.info({ hop: 'response', tag: request.query.tag })
    return result
  },
})

app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) }).then((address) => {
  logger.info({ msg: 'listening', url: `${address}/fib?n=5000` })
})
closeOnSignal(logger, async () => {
  await app.close()
  await pool.close()
})
