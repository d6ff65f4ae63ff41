'use strict'

// Property tests of what crosses the thread boundary (lib/pool/transport.js): an
// outcome encoded in a worker and decoded on the main thread keeps what users rely on.
const assert = require('node:assert/strict')
const test = require('ava')
const fc = require('fast-check')
const { MessageChannel } = require('node:worker_threads')
const transport = require('../lib/pool/transport')
const { move } = require('../lib/pool/move')
const { SideChannel } = require('../lib/pool/side-channel')

/** Both ends of a worker's side channel, as the worker (`sender`) and the main thread (`receiver`) hold them. */
function sideChannel(t) {
  const { port1, port2 } = new MessageChannel()
  const sender = new SideChannel(1, port1)
  const receiver = new SideChannel(1, port2)
  t.teardown(() => sender.close())
  return { sender, receiver }
}

const roundTrip = (thrown) => transport.decodeOutcome(transport.encodeThrown(thrown))

const builtins = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]
const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['cause', 'stack', 'message', 'name', '__proto__'].includes(k))
const cloneable = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(key, fc.string(), { maxKeys: 3, noNullPrototype: true }))

/** A class made on the fly, deriving from a built-in, named or not. */
const errorClass = fc.record({ base: fc.constantFrom(...builtins), custom: fc.option(fc.stringMatching(/^[A-Z][a-zA-Z]{0,10}$/), { nil: undefined }), setsName: fc.boolean() })

const errorSpec = fc.letrec((tie) => ({
  error: fc.record({
    type: errorClass,
    message: fc.string({ maxLength: 20 }),
    properties: fc.dictionary(key, cloneable, { maxKeys: 4, noNullPrototype: true }),
    cause: fc.option(fc.oneof({ depthSize: 'small' }, tie('error'), cloneable), { nil: undefined }),
  }),
})).error

function build({ type, message, properties, cause }) {
  const { base, custom, setsName } = type
  let Class = base
  if (custom !== undefined) {
    Class = { [custom]: class extends base {} }[custom]
    if (setsName) Object.defineProperty(Class.prototype, 'name', { value: custom, configurable: true, writable: true })
  }
  const error = cause === undefined ? new Class(message) : new Class(message, { cause: isSpec(cause) ? build(cause) : cause })
  return Object.assign(error, properties)
}

const isSpec = (value) => typeof value === 'object' && value !== null && 'type' in value && 'message' in value

/** The first built-in class on the prototype chain: what a decoded error is an instance of. */
function nearestBuiltin(error) {
  let proto = Object.getPrototypeOf(error)
  while (!builtins.includes(proto.constructor)) proto = Object.getPrototypeOf(proto)
  return proto.constructor
}

function expectSame(decoded, original) {
  const base = nearestBuiltin(original)
  // A class that keeps its base's name arrives named after the class.
  const name = original.name === base.name ? original.constructor.name : original.name
  assert.ok(decoded instanceof base, `${decoded.name} is not a ${base.name}`)
  assert.equal(decoded.name, name)
  assert.equal(decoded.message, original.message)
  assert.equal(decoded.stack, original.stack)
  assert.deepStrictEqual({ ...decoded }, { ...original })
  assert.equal('cause' in decoded, 'cause' in original)
  if (original.cause instanceof Error) expectSame(decoded.cause, original.cause)
  else assert.deepStrictEqual(decoded.cause, original.cause)
}

test('errors keep class (or nearest built-in and name), message, stack, own properties and cause chain', (t) => {
  fc.assert(
    fc.property(errorSpec, (spec) => {
      const original = build(spec)
      const { ok, error } = roundTrip(original)
      assert.equal(ok, false)
      expectSame(error, original)
    }),
    { numRuns: 300 },
  )
  t.pass()
})

test('thrown values that are not errors arrive as they were', (t) => {
  fc.assert(
    fc.property(fc.oneof(cloneable, fc.constant(undefined), fc.double(), fc.bigInt()), (value) => {
      assert.deepStrictEqual(roundTrip(value), { ok: false, error: value })
    }),
    { numRuns: 200 },
  )
  t.pass()
})

test('values round-trip; an uncloneable one becomes a DataCloneError', (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.deepStrictEqual(transport.decodeOutcome(transport.encodeValue(value)), { ok: true, value })
    }),
    { numRuns: 200 },
  )
  const { sender, receiver } = sideChannel(t)
  const { ok, error } = transport.decodeOutcome(transport.encodeValue({ f() {} }, sender, 1), receiver)
  t.false(ok)
  t.true(error instanceof DOMException)
  t.is(error.name, 'DataCloneError')
})

test('a SharedArrayBuffer goes by the side channel and stays shared; a moved buffer leaves the sender', (t) => {
  const { sender, receiver } = sideChannel(t)
  const shared = new SharedArrayBuffer(4)
  const marker = transport.encodeValue({ nested: [shared] }, sender, 7)
  const { value } = transport.decodeOutcome(marker, receiver)
  new Int32Array(value.nested[0])[0] = 42
  t.is(new Int32Array(shared)[0], 42)
  const bytes = new Uint8Array([1, 2, 3])
  const moved = transport.decodeOutcome(transport.encodeValue(move(bytes), sender, 8), receiver).value
  t.is(bytes.byteLength, 0, 'detached where it was sent from')
  t.true(moved instanceof Uint8Array)
  t.deepEqual([...moved], [1, 2, 3])
})

test('a side-channel message skipped by its task is dropped when a later one is taken', (t) => {
  const { sender, receiver } = sideChannel(t)
  sender.post('stale', undefined, 1)
  const marker = sender.post('wanted', undefined, 2)
  t.is(receiver.take(marker), 'wanted')
  t.throws(() => receiver.take(marker), { code: 'ERR_BATON_MESSAGE_LOST' })
})
