'use strict'

// Payloads that go as JSON (lib/pool/json.js, chosen by transport.js for a value with
// many entries) must arrive exactly as structured cloning (postMessage, piscina's
// transport) makes them: whatever JSON cannot hold exactly takes V8's format instead.

const test = require('ava')
const fc = require('fast-check')
const v8 = require('node:v8')
const { isDeepStrictEqual } = require('node:util')
const { MessageChannel } = require('node:worker_threads')
const transport = require('../lib/pool/transport')
const { NOT_PLAIN, readValue, writeArray } = require('../lib/pool/wire')
const { writeJsonArray } = require('../lib/pool/json')
const { SideChannel } = require('../lib/pool/side-channel')

/** A copy of what an encoder returned (a view of its scratch buffer) and whether it is JSON. */
function copy(bytes) {
  return { bytes: Buffer.from(bytes), json: bytes[0] === 0x5b }
}

/** `value` as a task to a worker and back as its result, each read as the other side reads it. */
function roundTrips(value) {
  const task = copy(transport.encodeTask(value, 'echo', undefined))
  const [arrived, name, url, stores] = transport.decodeTask(task.bytes)
  const result = copy(transport.encodeValue(arrived))
  const outcome = transport.decodeOutcome(result.bytes)
  return { task, result, arrived, name, url, stores, back: outcome.ok ? outcome.value : outcome }
}

/** Eight keys or more: the size from which transport.js writes JSON. */
const wide = (entries) => ({ k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, ...entries })

const jsonLeaf = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ maxLength: 40 }), fc.boolean(), fc.constant(null))
const leaf = fc.oneof(
  { weight: 100, arbitrary: jsonLeaf },
  fc.integer(),
  fc.double(), // with -0, NaN, infinities
  fc.string({ unit: 'binary', maxLength: 12 }), // with lone surrogates
  fc.string({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
)
const { value: arbitrary } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, { weight: 30, arbitrary: leaf }, { weight: 5, arbitrary: tie('array') }, tie('sparse'), tie('shared'), { weight: 5, arbitrary: tie('object') }),
  array: fc.array(tie('value'), { maxLength: 5 }),
  sparse: fc.sparseArray(tie('value'), { maxLength: 5 }),
  shared: tie('object').map((object) => [object, { again: object }]),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', '0', '17', 'toJSON')), tie('value'), { maxKeys: 10, noNullPrototype: true }),
}))

test('property: values with many entries arrive as structuredClone makes them, by JSON where it can hold them', (t) => {
  let json = 0
  let runs = 0
  fc.assert(
    fc.property(fc.dictionary(fc.string({ maxLength: 6 }), arbitrary, { minKeys: 8, maxKeys: 12, noNullPrototype: true }), (value) => {
      runs++
      const expected = structuredClone(value)
      const { task, result, arrived, back } = roundTrips(value)
      if (task.json && result.json) json++
      return isDeepStrictEqual(arrived, expected) && isDeepStrictEqual(back, expected) && isDeepStrictEqual(v8.deserialize(v8.serialize(value)), arrived)
    }),
    { numRuns: 500 },
  )
  t.log(`${json} of ${runs} went as JSON both ways`)
  t.true(json > 0)
})

test('the 1 KB JSON-like object goes as JSON both ways and arrives whole', (t) => {
  const { order } = require('../bench/fixtures/workloads')
  const { task, result, arrived, name, url, stores, back } = roundTrips(order(7))
  t.true(task.json)
  t.true(result.json)
  t.deepEqual(arrived, order(7))
  t.deepEqual(back, order(7))
  // JSON has no undefined: the name and file left out arrive as left out.
  t.is(name, 'echo')
  t.is(url, undefined)
  t.is(stores, undefined)
  // The stores a task carries go with it, as JSON if they can.
  const carrying = copy(transport.encodeTask(order(8), 'echo', 'file:///x.js', ['requestId', { id: 'r-1' }]))
  t.true(carrying.json)
  t.deepEqual(transport.decodeTask(carrying.bytes), [order(8), 'echo', 'file:///x.js', ['requestId', { id: 'r-1' }]])
  const undefinedStore = copy(transport.encodeTask(order(9), 'echo', undefined, ['requestId', undefined]))
  t.false(undefinedStore.json)
  t.deepEqual(transport.decodeTask(undefinedStore.bytes), [order(9), 'echo', undefined, ['requestId', undefined]])
})

test('what JSON cannot hold exactly takes V8 format, and arrives as structuredClone makes it', (t) => {
  class Point {
    constructor() {
      this.x = 1
    }
    toJSON() {
      return 'a point'
    }
  }
  const shared = { s: 1 }
  const cycle = wide({})
  cycle.self = cycle
  const deep = wide({})
  let at = deep
  for (let i = 0; i < 20; i++) at = at.next = {}
  const cases = {
    '-0': -0,
    NaN: Number.NaN,
    Infinity: Number.POSITIVE_INFINITY,
    '-Infinity': Number.NEGATIVE_INFINITY,
    'undefined in an object': { a: undefined },
    'undefined in an array': [1, undefined],
    'a hole': [1, , 3], // eslint-disable-line no-sparse-arrays
    'an array with a property': Object.assign([1, 2], { extra: true }),
    Date: new Date(0),
    RegExp: /x/g,
    Map: new Map([[1, 2]]),
    Set: new Set([1]),
    'a typed array': new Uint8Array([1, 2]),
    'boxed primitives': [Object(1), Object('s'), Object(true)],
    'a class instance with toJSON': new Point(),
    'an own toJSON that is not a function': { toJSON: 'kept' },
    BigInt: 1n,
    'a null-prototype object': Object.assign(Object.create(null), { a: 1 }),
    'a shared reference': [shared, shared],
    'an error': new RangeError('r'),
  }
  for (const [what, inner] of Object.entries(cases)) {
    const value = wide({ inner })
    const expected = structuredClone(value)
    const { task, arrived, back } = roundTrips(value)
    const result = copy(transport.encodeValue(value))
    if (what === 'an own toJSON that is not a function') {
      t.true(task.json && result.json, what)
    } else {
      t.false(task.json, `${what}: not JSON`)
      t.false(result.json, `${what}: not JSON`)
    }
    // What arrives may be plain (a class instance arrives as a plain object), and goes back as JSON then.
    t.true(isDeepStrictEqual(arrived, expected), what)
    t.true(isDeepStrictEqual(back, expected), what)
  }
  // Identity within a value is kept, as structured cloning keeps it.
  const sharing = roundTrips(wide({ a: shared, b: shared })).back
  t.is(sharing.a, sharing.b)
  const cyclic = roundTrips(cycle).back
  t.is(cyclic.self, cyclic)
  t.true(isDeepStrictEqual(roundTrips(deep).back, structuredClone(deep)))
})

test('strings and keys that JSON escapes, or holds beyond ASCII, arrive as they were', (t) => {
  const strings = ['"quoted"', 'back\\slash', 'line\nbreak\ttab\u0000nul\u001f', '\u007fdel', 'é€ 😀', '\ud800 lone \udfff', '\ud83d', 'a'.repeat(300)]
  const value = wide(Object.fromEntries(strings.map((s, i) => [`${s}${i}`, s])))
  Object.assign(value, { 0: 'index', 17: 'seventeen' })
  Object.defineProperty(value, '__proto__', { value: { own: true }, enumerable: true, writable: true, configurable: true })
  const { task, arrived, back } = roundTrips(value)
  t.true(task.json)
  t.true(isDeepStrictEqual(arrived, structuredClone(value)))
  t.true(isDeepStrictEqual(back, structuredClone(value)))
  t.deepEqual(Object.keys(back), Object.keys(value))
  t.true(Object.hasOwn(back, '__proto__'))
  t.is(Object.getPrototypeOf(back), Object.prototype)
})

test('numbers arrive as the same doubles', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.maxSafeInteger(), fc.integer().map((n) => n / 100)), { minLength: 8 }), (numbers) => {
      const finite = numbers.map((n) => (Object.is(n, -0) ? 0 : n))
      const { task, back } = roundTrips(finite)
      return task.json && finite.every((n, i) => Object.is(back[i], n))
    }),
    { numRuns: 500 },
  )
  for (const n of [0.1, 1234.56, 5e-324, 1e21, 2 ** 53, -(2 ** 31), 123456789.123456, 0.000001, 1 / 3]) {
    t.true(Object.is(roundTrips(wide({ n })).back.n, n), String(n))
  }
})

/** The name of what `clone` threw (a DOMException, not an Error on Node 20). */
function cloneFailure(clone) {
  try {
    clone()
  } catch (error) {
    return error.name
  }
}

test('functions, symbols and proxies fail as they fail to clone: a DataCloneError', (t) => {
  const { port1, port2 } = new MessageChannel()
  const sender = new SideChannel(1, port1)
  const receiver = new SideChannel(1, port2)
  t.teardown(() => sender.close())
  for (const inner of [() => 1, Symbol('s'), new Proxy({}, {}), new Proxy([], {})]) {
    const value = wide({ inner })
    t.is(cloneFailure(() => structuredClone(value)), 'DataCloneError')
    // V8's format refuses it, so it goes to postMessage, which refuses it too.
    t.is(transport.encodeTask(value, 'echo', undefined), transport.PORTED)
    t.is(cloneFailure(() => transport.postTask((message) => port1.postMessage(message), value, 'echo', undefined, undefined, [])), 'DataCloneError')
    const outcome = transport.decodeOutcome(Buffer.from(transport.encodeValue(value, sender, 1)), receiver)
    t.false(outcome.ok)
    t.is(outcome.error.name, 'DataCloneError')
  }
  // A proxy's traps are never run, as structured cloning runs none.
  let trapped = 0
  const count = () => trapped++
  const proxy = wide({ inner: new Proxy(wide({}), { ownKeys: count, get: count, getPrototypeOf: count }) })
  t.is(transport.encodeTask(proxy, 'echo', undefined), transport.PORTED)
  t.is(transport.decodeOutcome(Buffer.from(transport.encodeValue(proxy, sender, 2)), receiver).error.name, 'DataCloneError')
  t.is(trapped, 0)
})

test('getters run once each, in the order structured cloning runs them', (t) => {
  function build(log) {
    const inner = {}
    Object.defineProperty(inner, 'deep', { get: () => log.push('deep') && 2, enumerable: true })
    const value = wide({})
    Object.defineProperty(value, 'first', { get: () => log.push('first') && inner, enumerable: true })
    Object.defineProperty(value, 'second', { get: () => log.push('second') && 'x', enumerable: true })
    return value
  }
  const cloned = []
  structuredClone(build(cloned))
  const sent = []
  const task = copy(transport.encodeTask(build(sent), 'echo', undefined))
  t.true(task.json)
  t.deepEqual(sent, cloned)
  t.deepEqual(cloned, ['first', 'deep', 'second'])
  const returned = []
  transport.encodeValue(build(returned))
  t.deepEqual(returned, cloned)
})

test('a getter that gives what JSON cannot hold sends what it gave', (t) => {
  let calls = 0
  const value = wide({})
  Object.defineProperty(value, 'z', { get: () => (calls++ === 0 ? -0 : 1), enumerable: true })
  const [arrived] = transport.decodeTask(Buffer.from(transport.encodeTask(value, 'echo', undefined)))
  // JSON declined, so the value is read again for V8's format (as when V8's format
  // declines a value that wire.js began): the second reading is what is sent.
  t.is(arrived.z, 1)
  t.is(calls, 2)
})

test('nothing planted on a prototype is called or read: no toJSON, no setter', (t) => {
  let called = 0
  const plant = () => {
    Object.prototype.toJSON = () => called++
    Array.prototype.toJSON = () => called++
    Object.defineProperty(Object.prototype, 'k0', { set: () => called++, configurable: true })
  }
  const clean = () => {
    delete Object.prototype.toJSON
    delete Array.prototype.toJSON
    delete Object.prototype.k0
  }
  const value = wide({ list: [1, { a: 'b' }], nested: { c: 'd' } })
  const expected = structuredClone(value)
  plant()
  let trip
  try {
    trip = roundTrips(value)
  } finally {
    clean()
  }
  t.true(trip.task.json)
  t.is(called, 0)
  t.true(isDeepStrictEqual(trip.back, expected))
})

test('readers take any Uint8Array view, a batch of outcomes read in place', (t) => {
  const { order } = require('../bench/fixtures/workloads')
  const one = Buffer.from(transport.encodeValue(order(1)))
  const two = Buffer.from(transport.encodeValue({ a: 1 }))
  const batch = new Uint8Array(new ArrayBuffer(8 + one.length + two.length + 8), 4, one.length + two.length + 4)
  batch.set(one, 2)
  batch.set(two, 2 + one.length)
  t.deepEqual(transport.decodeOutcome(batch, undefined, 2, 2 + one.length), { ok: true, value: order(1) })
  t.deepEqual(transport.decodeOutcome(batch, undefined, 2 + one.length, 2 + one.length + two.length), { ok: true, value: { a: 1 } })
  const task = Buffer.from(transport.encodeTask(order(2), 'echo', 'file:///x.js'))
  const view = new Uint8Array(task.length + 3)
  view.set(task, 3)
  t.deepEqual(transport.decodeTask(view.subarray(3)), [order(2), 'echo', 'file:///x.js', undefined])
  // wire.js reads V8's format in place from a view too, not only from a Buffer.
  const small = new Uint8Array(Buffer.from(writeArray([1, 'a', { b: [null] }])))
  t.deepEqual(readValue(small), [1, 'a', { b: [null] }])
  t.deepEqual(readValue(small.subarray(0), 0, small.length), [1, 'a', { b: [null] }])
})

test('the JSON writer declines a value being written while one is (a getter that submits)', (t) => {
  let inner
  const value = wide({})
  Object.defineProperty(value, 'z', { get: () => (inner = writeJsonArray([1])) && 1, enumerable: true })
  t.not(writeJsonArray([value]), NOT_PLAIN)
  t.is(inner, NOT_PLAIN)
})
