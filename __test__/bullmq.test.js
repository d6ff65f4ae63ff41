'use strict'

// Context onto a real job queue: BullMQ on a Redis server this test starts on
// loopback. A job enqueued inside run(store), with a span active, carries
// exportContext() in its data (as JSON, which is how BullMQ stores it); the processor
// runs inside runInContext() and sees that store and that span as parent. Needs
// Debian's redis-server (`.ci/run` installs it): without it this test fails.
const test = require('ava')
const { execFileSync, spawn } = require('node:child_process')
const { once } = require('node:events')
const { mkdtempSync, rmSync } = require('node:fs')
const net = require('node:net')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const api = require('@opentelemetry/api')
const { Queue, Worker } = require('bullmq')
const { exportContext, runInContext } = require('..')
const { BatonContextManager } = require('async-baton/opentelemetry')
const { childSpan, setUpTracing } = require('./opentelemetry-helpers')
const { requestId, tenant } = require('./fixtures/context-transfer/storages')

setUpTracing(new BatonContextManager())

/** A port free on 127.0.0.1 a moment ago. */
async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

/** Starts redis-server on loopback with nothing persisted; resolves once it accepts connections. */
async function startRedis(t) {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  } catch (error) {
    throw new Error(`this test needs redis-server on PATH (Debian: apt-get install -y redis-server): ${error.message}`)
  }
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'baton-redis-'))
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM')
      await once(server, 'exit')
    }
    rmSync(dir, { recursive: true, force: true })
  })
  let output = ''
  await new Promise((resolve, reject) => {
    // Redis is up in milliseconds; 10 s only catches a server that never starts.
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${output}`)), 10_000)
    server.stdout.on('data', (chunk) => {
      output += chunk
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    server.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited (${code}):\n${output}`))
    })
  })
  server.stdout.resume()
  return port
}

test('a BullMQ job enqueued inside run(store) with a span active is processed with that store and that span as parent', async (t) => {
  const port = await startRedis(t)
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null }
  const queue = new Queue('baton-context', { connection })
  const outside = []
  const worker = new Worker(
    'baton-context',
    (job) => {
      // BullMQ runs the processor in its own context: nothing of the enqueuer's is here.
      outside.push(requestId.getStore())
      return runInContext(job.data.context, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        return { n: job.data.n, requestId: requestId.getStore(), tenant: tenant.get(), span: childSpan(`process ${job.data.n}`) }
      })
    },
    { connection, concurrency: 8 },
  )
  t.teardown(async () => {
    await worker.close()
    await queue.close()
  })

  const count = 40
  const results = new Map()
  const finished = new Promise((resolve, reject) => {
    worker.on('completed', (job, result) => {
      results.set(result.n, result)
      if (results.size === count) resolve()
    })
    worker.on('failed', (job, error) => reject(error))
  })
  const tracer = api.trace.getTracer('baton-test')
  const parents = await Promise.all(
    Array.from({ length: count }, (_, n) =>
      requestId.run(`req-${n}`, () =>
        tenant.run({ id: n % 4 }, () =>
          tracer.startActiveSpan(`enqueue ${n}`, async (span) => {
            await queue.add('work', { n, context: exportContext() })
            span.end()
            return span.spanContext()
          }),
        ),
      ),
    ),
  )
  await finished

  t.deepEqual(outside, Array(count).fill(undefined))
  for (let n = 0; n < count; n++) {
    const result = results.get(n)
    t.is(result.requestId, `req-${n}`)
    t.deepEqual(result.tenant, { id: n % 4 })
    t.is(result.span.parentSpanId, parents[n].spanId)
    t.is(result.span.traceId, parents[n].traceId)
  }
})
