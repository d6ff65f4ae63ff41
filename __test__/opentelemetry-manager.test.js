'use strict'

// BatonContextManager as an OpenTelemetry ContextManager (no SDK, no global state:
// each test has managers of its own), what it carries across (W3C trace context, read
// by OpenTelemetry's own propagators), and that async-baton loads without the API.
const test = require('ava')
const { execFileSync } = require('node:child_process')
const { EventEmitter } = require('node:events')
const api = require('@opentelemetry/api')
const { W3CBaggagePropagator, W3CTraceContextPropagator } = require('@opentelemetry/core')
const { exportContext, runInContext } = require('..')
const { BatonContextManager } = require('async-baton/opentelemetry')

const key = api.createContextKey('baton-test')
const ctx = (value) => api.ROOT_CONTEXT.setValue(key, value)
const valueOf = (manager) => manager.active().getValue(key)
const NAME = 'async-baton/opentelemetry'

const spanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: api.TraceFlags.SAMPLED,
  traceState: api.createTraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
}

test('active() is ROOT_CONTEXT outside with(), the given context inside, also after an await and in a timer', async (t) => {
  const manager = new BatonContextManager()
  t.is(manager.active(), api.ROOT_CONTEXT)
  const context = ctx('a')
  await manager.with(context, async () => {
    t.is(manager.active(), context)
    await new Promise((resolve) => setTimeout(resolve, 1))
    t.is(valueOf(manager), 'a')
    await manager.with(ctx('b'), async () => t.is(valueOf(manager), 'b'))
    t.is(valueOf(manager), 'a')
  })
  t.is(manager.active(), api.ROOT_CONTEXT)
})

test('with() passes thisArg and arguments, returns the value and restores the context when fn throws', (t) => {
  const manager = new BatonContextManager()
  const receiver = { name: 'receiver' }
  t.deepEqual(
    manager.with(ctx(1), function (a, b) {
      return [this, a, b, valueOf(manager)]
    }, receiver, 'x', 'y'),
    [receiver, 'x', 'y', 1],
  )
  t.throws(() => manager.with(ctx(2), () => {
    throw new Error('boom')
  }), { message: 'boom' })
  t.is(manager.active(), api.ROOT_CONTEXT)
  t.throws(() => manager.with(ctx(3), 'not a function'), { code: 'ERR_INVALID_ARG_TYPE', message: /^The "fn" argument must be of type function\./ })
})

test('two managers do not see each other', (t) => {
  const first = new BatonContextManager()
  const second = new BatonContextManager()
  first.with(ctx('first'), () => t.is(second.active(), api.ROOT_CONTEXT))
})

test('bind(context, fn) runs fn in that context, keeps this, arguments and length; other targets come back as they are', (t) => {
  const manager = new BatonContextManager()
  const bound = manager.bind(ctx('bound'), function (a, b) {
    return [this, a, b, valueOf(manager)]
  })
  t.is(bound.length, 2)
  const receiver = {}
  manager.with(ctx('caller'), () => t.deepEqual(bound.call(receiver, 1, 2), [receiver, 1, 2, 'bound']))
  const plain = { not: 'an emitter' }
  t.is(manager.bind(ctx('x'), plain), plain)
  t.is(manager.bind(ctx('x'), 42), 42)
})

// The EventEmitter semantics of OpenTelemetry's own manager, run against both where its
// package supports the Node line (22.15 or later).
const managers = [['baton', BatonContextManager]]
const [major, minor] = process.versions.node.split('.').map(Number)
if (major > 22 || (major === 22 && minor >= 15)) {
  managers.push(['OpenTelemetry\'s', require('@opentelemetry/context-async-hooks').AsyncLocalStorageContextManager])
}

for (const [kind, Manager] of managers) {
  test(`bind(context, emitter): listeners added after run in the bound context, those added before in the emitter's caller's (${kind})`, (t) => {
    const manager = new Manager()
    const emitter = new EventEmitter()
    const seen = []
    emitter.on('event', () => seen.push(['before', valueOf(manager)]))
    t.is(manager.bind(ctx('bound'), emitter), emitter)
    emitter.on('event', () => seen.push(['on', valueOf(manager)]))
    emitter.addListener('event', () => seen.push(['addListener', valueOf(manager)]))
    emitter.prependListener('event', () => seen.push(['prependListener', valueOf(manager)]))
    emitter.once('event', () => seen.push(['once', valueOf(manager)]))
    emitter.prependOnceListener('event', () => seen.push(['prependOnceListener', valueOf(manager)]))
    manager.with(ctx('emitter'), () => emitter.emit('event'))
    manager.with(ctx('emitter'), () => emitter.emit('event'))
    t.deepEqual(seen, [
      ['prependOnceListener', 'bound'],
      ['prependListener', 'bound'],
      ['before', 'emitter'],
      ['on', 'bound'],
      ['addListener', 'bound'],
      ['once', 'bound'],
      ['prependListener', 'bound'],
      ['before', 'emitter'],
      ['on', 'bound'],
      ['addListener', 'bound'],
    ])
  })

  test(`bind(context, emitter): removeListener and off remove a listener as it was given, also a once listener (${kind})`, (t) => {
    const manager = new Manager()
    const emitter = manager.bind(ctx('bound'), new EventEmitter())
    let calls = 0
    const listener = () => calls++
    emitter.on('a', listener)
    emitter.once('b', listener)
    emitter.on('c', listener)
    emitter.off('a', listener)
    t.is(emitter.listenerCount('a'), 0)
    emitter.removeListener('b', listener)
    t.is(emitter.listenerCount('b'), 0)
    emitter.removeAllListeners('c')
    t.is(emitter.listenerCount('c'), 0)
    emitter.emit('a')
    emitter.emit('b')
    emitter.emit('c')
    t.is(calls, 0)
    // Removing a listener that was never added changes nothing.
    emitter.on('d', listener)
    emitter.removeListener('d', () => {})
    t.is(emitter.listenerCount('d'), 1)
  })

  test(`bind(context, emitter): a once listener runs once in the bound context; binding again keeps the first context (${kind})`, (t) => {
    const manager = new Manager()
    const emitter = manager.bind(ctx('first'), new EventEmitter())
    t.is(manager.bind(ctx('second'), emitter), emitter)
    const seen = []
    emitter.once('x', () => seen.push(valueOf(manager)))
    emitter.emit('x')
    emitter.emit('x')
    t.deepEqual(seen, ['first'])
    // A listener that is not a function: Node's own error with baton's manager;
    // OpenTelemetry's fails before Node sees it, on the WeakMap it keeps listeners in.
    const error = t.throws(() => emitter.on('x', 'nope'), { instanceOf: TypeError })
    t.is(error.code, kind === 'baton' ? 'ERR_INVALID_ARG_TYPE' : undefined)
  })

  test(`bind(context, emitter): a listener added twice is removed one addition per removeListener, as Node does (${kind}: ${kind === 'baton' ? 'yes' : 'only the first'})`, (t) => {
    const manager = new Manager()
    const emitter = manager.bind(ctx('bound'), new EventEmitter())
    const listener = () => {}
    emitter.on('a', listener)
    emitter.on('a', listener)
    emitter.removeListener('a', listener)
    t.is(emitter.listenerCount('a'), 1)
    emitter.removeListener('a', listener)
    // OpenTelemetry's manager wraps each addition anew and remembers the last wrapper only.
    t.is(emitter.listenerCount('a'), kind === 'baton' ? 0 : 1)
  })
}

test('attach() makes a context active until its scope is disposed', (t) => {
  const manager = new BatonContextManager()
  const scope = manager.attach(ctx('attached'))
  t.is(valueOf(manager), 'attached')
  scope.dispose()
  t.is(manager.active(), api.ROOT_CONTEXT)
})

test('exportContext() carries the enabled manager\'s span context and baggage as W3C headers that OpenTelemetry\'s propagators read', (t) => {
  const manager = new BatonContextManager().enable()
  t.teardown(() => manager.disable())
  const baggage = api.propagation.createBaggage({
    'user id': { value: 'ü=1;2,3' },
    plan: { value: 'gold', metadata: api.baggageEntryMetadataFromString('ttl=60') },
  })
  const context = api.propagation.setBaggage(api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext), baggage)
  const exported = manager.with(context, exportContext)
  t.deepEqual(exported, {
    [NAME]: {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
      baggage: 'user%20id=%C3%BC%3D1%3B2%2C3,plan=gold;ttl=60',
    },
  })
  const carrier = exported[NAME]
  const extracted = new W3CBaggagePropagator().extract(new W3CTraceContextPropagator().extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter), carrier, api.defaultTextMapGetter)
  const theirs = api.trace.getSpanContext(extracted)
  t.is(theirs.traceId, spanContext.traceId)
  t.is(theirs.spanId, spanContext.spanId)
  t.is(theirs.traceFlags, spanContext.traceFlags)
  t.is(theirs.traceState.serialize(), spanContext.traceState.serialize())
  t.deepEqual(api.propagation.getBaggage(extracted).getAllEntries().map(([k, e]) => [k, e.value, e.metadata?.toString()]), [
    ['user id', 'ü=1;2,3', undefined],
    ['plan', 'gold', 'ttl=60'],
  ])

  // And back: runInContext() gives the span context as a remote parent, and the baggage.
  runInContext(exported, () => {
    const active = manager.active()
    t.deepEqual(api.trace.getSpanContext(active), { ...spanContext, traceState: api.trace.getSpanContext(active).traceState, isRemote: true })
    t.is(api.trace.getSpanContext(active).traceState.serialize(), spanContext.traceState.serialize())
    t.is(api.propagation.getBaggage(active).getEntry('user id').value, 'ü=1;2,3')
    t.is(api.propagation.getBaggage(active).getEntry('plan').metadata.toString(), 'ttl=60')
  })
  // What OpenTelemetry's propagators write, baton reads.
  const theirCarrier = {}
  new W3CTraceContextPropagator().inject(context, theirCarrier, api.defaultTextMapSetter)
  new W3CBaggagePropagator().inject(context, theirCarrier, api.defaultTextMapSetter)
  runInContext({ [NAME]: theirCarrier }, () => {
    t.is(api.trace.getSpanContext(manager.active()).spanId, spanContext.spanId)
    t.is(api.propagation.getBaggage(manager.active()).getEntry('user id').value, 'ü=1;2,3')
  })
})

test('only the last manager enabled is carried, and none once disabled; a context with neither span nor baggage carries nothing', (t) => {
  const first = new BatonContextManager().enable()
  const second = new BatonContextManager().enable()
  t.teardown(() => first.disable())
  const context = api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext)
  t.deepEqual(first.with(context, exportContext), {})
  t.is(second.with(context, exportContext)[NAME].traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
  t.deepEqual(second.with(ctx('no span'), exportContext), {})
  second.disable()
  t.deepEqual(second.with(context, exportContext), {})
  // Disabling one that no longer carries does not stop the one that does.
  const third = new BatonContextManager().enable()
  second.disable()
  t.truthy(third.with(context, exportContext)[NAME])
  third.disable()
})

test('a malformed carrier gives the root context (no parent), never an error; own properties only', (t) => {
  const manager = new BatonContextManager().enable()
  t.teardown(() => manager.disable())
  const parentOf = (carrier) => runInContext({ [NAME]: carrier }, () => api.trace.getSpanContext(manager.active()))
  for (const carrier of [
    null,
    'text',
    {},
    { traceparent: 42 },
    { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331' },
    { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' },
    { traceparent: '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01' },
    { traceparent: 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra' },
    { traceparent: '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01' },
    Object.create({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
  ]) {
    t.is(parentOf(carrier), undefined, JSON.stringify(carrier))
  }
  // A later version may add fields.
  t.is(parentOf({ traceparent: '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-later' }).spanId, 'b7ad6b7169203331')
  const baggage = runInContext({ [NAME]: { baggage: 'ok=1,bad=%E0%A4%A,=novalue,noequals,__proto__=x' } }, () => api.propagation.getBaggage(manager.active()))
  t.deepEqual(baggage.getAllEntries().map(([k, e]) => [k, e.value]), [['ok', '1'], ['__proto__', 'x']])
})

test('the ESM subpath gives the same class as the CommonJS one', async (t) => {
  const esm = await import('async-baton/opentelemetry')
  t.is(esm.BatonContextManager, BatonContextManager)
})

test('async-baton loads and works without @opentelemetry/api installed; only the subpath needs it', (t) => {
  // A child process in which @opentelemetry/* cannot be resolved, as in an app without it.
  const script = `
    const Module = require('node:module')
    const resolve = Module._resolveFilename
    Module._resolveFilename = function (request, ...rest) {
      if (request.startsWith('@opentelemetry/')) throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' })
      return resolve.call(this, request, ...rest)
    }
    const baton = require('async-baton')
    const storage = new baton.AsyncLocalStorage({ name: 'id', cloneIntoWorkers: true })
    const out = { exported: storage.run(7, baton.exportContext) }
    try { require('async-baton/opentelemetry') } catch (error) { out.subpath = error.code }
    process.stdout.write(JSON.stringify(out))`
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: __dirname, encoding: 'utf8' }))
  t.deepEqual(out, { exported: { id: 7 }, subpath: 'MODULE_NOT_FOUND' })
})
