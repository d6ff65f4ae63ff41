'use strict'

// exportContext() / runInContext(): the marked stores of a context as a plain value
// for any transport, and a function run inside such a value. Semantics, validation,
// and a real transport: child_process.fork's IPC, with JSON and with V8 ("advanced")
// serialization, OpenTelemetry's parent included.
const test = require('ava')
const { AsyncLocalStorage: NodeAsyncLocalStorage } = require('node:async_hooks')
const { fork } = require('node:child_process')
const { once } = require('node:events')
const { join } = require('node:path')
const api = require('@opentelemetry/api')
const { AsyncLocalStorage, exportContext, runInContext } = require('..')
const { BatonContextManager } = require('async-baton/opentelemetry')
const { setUpTracing } = require('./opentelemetry-helpers')
const { local, requestId, tenant } = require('./fixtures/context-transfer/storages')

setUpTracing(new BatonContextManager())
const CHILD = join(__dirname, 'fixtures', 'context-transfer', 'child.js')

test('exportContext() gives the marked stores by name, cloned; unmarked and absent storages are left out', (t) => {
  t.deepEqual(exportContext(), {})
  const store = { id: 'r-1', tags: ['a'], at: new Date(0), big: 2n ** 70n, map: new Map([[1, 2]]) }
  const exported = requestId.run(store, () => tenant.run('acme', () => local.run('here', exportContext)))
  t.deepEqual(exported, { requestId: store, tenant: 'acme' })
  t.not(exported.requestId, store)
  t.is(Object.getPrototypeOf(exported), Object.prototype)
  // A snapshot: later changes to the store do not reach it.
  const later = requestId.run({ n: 1 }, () => {
    const value = exportContext()
    requestId.getStore().n = 2
    return value
  })
  t.deepEqual(later, { requestId: { n: 1 } })
  t.deepEqual(requestId.run('r', () => requestId.exit(exportContext)), {})
  // An explicit undefined is a store like any other.
  const undef = requestId.run(undefined, exportContext)
  t.true(Object.hasOwn(undef, 'requestId'))
  t.is(undef.requestId, undefined)
})

test('exportContext() with a store that cannot be cloned: ERR_BATON_STORE_NOT_CLONEABLE naming the storage, as the pool', (t) => {
  const error = t.throws(() => tenant.run('ok', () => requestId.run({ callback() {} }, exportContext)), {
    instanceOf: TypeError,
    code: 'ERR_BATON_STORE_NOT_CLONEABLE',
  })
  t.regex(error.message, /^The store of the storage 'requestId' cannot be cloned: /)
  t.is(error.cause.name, 'DataCloneError')
})

test('runInContext() runs fn with exactly the given stores among baton\'s storages, and puts the caller\'s context back', async (t) => {
  const node = new NodeAsyncLocalStorage()
  const result = await node.run('node', () => requestId.run('outer', () => local.run('outer local', () => {
    const inside = runInContext({ requestId: 'inner' }, async (a, b) => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      return [a, b, requestId.getStore(), tenant.get(), local.getStore(), node.getStore()]
    }, 1, 2)
    t.is(requestId.getStore(), 'outer')
    t.is(local.getStore(), 'outer local')
    return inside
  })))
  // tenant is marked but not in the value: absent, so its default; local is not marked: absent too.
  t.deepEqual(result, [1, 2, 'inner', 'no tenant', undefined, 'node'])
  t.throws(() => requestId.run('before', () => runInContext({ requestId: 'x' }, () => {
    throw new Error('boom')
  })), { message: 'boom' })
  t.is(requestId.getStore(), undefined)
  t.deepEqual(runInContext({}, () => [requestId.getStore(), tenant.get()]), [undefined, 'no tenant'])
})

test('runInContext() drops names no storage of this process is marked with, and reads own properties only', (t) => {
  t.deepEqual(runInContext({ unknown: 1, local: 'not marked', requestId: 'r' }, () => [requestId.getStore(), local.getStore()]), ['r', undefined])
  Object.prototype.requestId = 'polluted'
  try {
    t.is(runInContext({}, () => requestId.getStore()), undefined)
    t.is(runInContext(Object.create({ requestId: 'inherited' }), () => requestId.getStore()), undefined)
  } finally {
    delete Object.prototype.requestId
  }
  const odd = new AsyncLocalStorage({ name: '__proto__', cloneIntoWorkers: true })
  const exported = odd.run('odd', exportContext)
  t.true(Object.hasOwn(exported, '__proto__'))
  t.is(runInContext(JSON.parse(JSON.stringify(exported)), () => odd.getStore()), 'odd')
})

test('runInContext() validates its arguments with Node\'s errors', (t) => {
  for (const bad of [null, undefined, 42, 'text', ['requestId', 'x']]) {
    t.throws(() => runInContext(bad, () => {}), { code: 'ERR_INVALID_ARG_TYPE', message: /^The "context" argument must be of type object\./ })
  }
  t.throws(() => runInContext({}, 'not a function'), { code: 'ERR_INVALID_ARG_TYPE', message: /^The "fn" argument must be of type function\./ })
})

/** Forks the child with `serialization`; sends `count` messages, each exported inside its own context; resolves with the answers. */
async function roundTrips(t, serialization, count, storeOf) {
  const child = fork(CHILD, { serialization, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  t.teardown(() => child.kill())
  const [ready] = await once(child, 'message')
  t.is(ready, 'ready')
  const answers = new Map()
  const done = new Promise((resolve, reject) => {
    child.on('message', (answer) => {
      answers.set(answer.id, answer)
      if (answers.size === count) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) with ${answers.size} of ${count} answers`)))
  })
  const tracer = api.trace.getTracer('baton-test')
  const sent = []
  for (let id = 0; id < count; id++) {
    const baggage = api.propagation.createBaggage({ user: { value: `user-${id}` } })
    api.context.with(api.propagation.setBaggage(api.context.active(), baggage), () =>
      tracer.startActiveSpan(`enqueue ${id}`, (span) => {
        requestId.run(storeOf(id), () => tenant.run(`tenant-${id % 3}`, () => child.send({ id, context: exportContext() })))
        sent.push(span.spanContext())
        span.end()
      }),
    )
  }
  await done
  return { answers, sent }
}

for (const [serialization, storeOf] of [
  ['json', (id) => `req-${id}`],
  ['advanced', (id) => ({ id, at: new Date(id), ids: new Set([id]) })],
]) {
  test(`fork (IPC, ${serialization} serialization): each message is handled in the context it was sent from, OpenTelemetry parent included`, async (t) => {
    const count = 50
    const { answers, sent } = await roundTrips(t, serialization, count, storeOf)
    for (let id = 0; id < count; id++) {
      const answer = answers.get(id)
      t.deepEqual(answer.requestId, storeOf(id))
      t.is(answer.tenant, `tenant-${id % 3}`)
      t.is(answer.local, undefined)
      t.is(answer.span.parentSpanId, sent[id].spanId)
      t.is(answer.span.traceId, sent[id].traceId)
      t.is(answer.baggage, `user-${id}`)
    }
  })
}
