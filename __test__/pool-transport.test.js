'use strict'

// Property tests of what crosses the thread boundary (lib/pool/transport.js): an
// outcome encoded in a worker and decoded on the main thread keeps what users rely on.
const assert = require('node:assert/strict')
const test = require('ava')
const fc = require('fast-check')
const transport = require('../lib/pool/transport')

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
  const { ok, error } = transport.decodeOutcome(transport.encodeValue({ f() {} }))
  t.false(ok)
  t.true(error instanceof DOMException)
  t.is(error.name, 'DataCloneError')
})
