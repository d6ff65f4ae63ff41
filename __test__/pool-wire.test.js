'use strict'

// The WorkerPool's fast path for plain payloads (lib/pool/wire.js) must be
// indistinguishable from v8.serialize / v8.deserialize: V8 reads what it writes, it
// reads what V8 writes, and whatever is not plain is left to V8.

const test = require('ava')
const fc = require('fast-check')
const v8 = require('node:v8')
const { NOT_PLAIN, readValue, writeArray } = require('../lib/pool/wire')

/** How transport.js reads: the fast reader, or V8 where it declines. */
function decode(bytes) {
  const value = readValue(bytes)
  return value === NOT_PLAIN ? v8.deserialize(bytes) : value
}

/** What the fast path wrote, copied (it returns a view of a scratch buffer), or NOT_PLAIN. */
function write(values) {
  const bytes = writeArray(values)
  return bytes === NOT_PLAIN ? bytes : Buffer.from(bytes)
}

const plainValues = [
  [{ a: 1, b: 2 }, undefined],
  [0, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 1.5, -0, NaN, Infinity, -Infinity],
  ['', 'x', 'é€', 'a'.repeat(100), '€'.repeat(100), '\ud800', 'ab\u0100'],
  // Long strings take other paths than short ones: one-byte, two-byte from the start,
  // and one-byte until a wide character near the end; and past one varint byte.
  ['a'.repeat(127), 'a'.repeat(128), 'é'.repeat(5000), '€'.repeat(128), `${'a'.repeat(300)}€`, '9'.repeat(20_000)],
  [null, true, false, [], {}, [1, [2, [3]]]],
  [{ nested: { deep: [1, { x: 'y' }] } }, { é: 1, κλειδί: 'τιμή' }],
  [{ a: 1 }, 'name', ['requestId', { id: 'abc-123', tenant: 7 }]],
]

test('plain values: V8 reads the fast bytes as the same value, and V8 bytes decode as V8 wrote them', (t) => {
  for (const values of plainValues) {
    const fast = write(values)
    t.not(fast, NOT_PLAIN, `plain: ${JSON.stringify(values)}`)
    t.deepEqual(v8.deserialize(fast), values)
    t.deepEqual(readValue(fast), values)
    t.deepEqual(decode(v8.serialize(values)), values)
  }
  // -0 and NaN survive exactly (deepEqual would not tell -0 from 0).
  const [minusZero, nan] = readValue(write([-0, NaN]))
  t.true(Object.is(minusZero, -0))
  t.true(Number.isNaN(nan))
})

test('what is not plain is left to V8, so sharing, cycles and rich types keep their meaning', (t) => {
  const shared = { s: 1 }
  const cycle = { a: 1 }
  cycle.self = cycle
  const notPlain = [
    [shared, shared], [cycle], [new Date(0)], [new Map([[1, 2]])], [1n], [{ 1: 'x' }], [[1, , 3]], // eslint-disable-line no-sparse-arrays
    [Object.assign([1], { extra: 1 })], [new Uint8Array(2)], [Object.create(null)], [new Proxy({}, {})],
    [new Error('e')], [{ __proto__: { inherited: 1 }, own: 2 }], [() => 1], [Symbol('s')],
  ]
  for (const values of notPlain) t.is(write(values), NOT_PLAIN)
  // ...and the fast reader declines V8's bytes for them (references, dates, maps, ...).
  for (const values of [[shared, shared], [cycle], [new Date(0)], [new Map([[1, 2]])], [1n]]) {
    t.is(readValue(v8.serialize(values)), NOT_PLAIN)
  }
})

test('an own "__proto__" key is written as V8 writes it, and read back by V8 only', (t) => {
  const values = [JSON.parse('{"__proto__": 5}')]
  const bytes = write(values)
  t.true(bytes.equals(v8.serialize(values)))
  t.is(readValue(bytes), NOT_PLAIN)
  t.is(Object.getOwnPropertyDescriptor(v8.deserialize(bytes)[0], '__proto__').value, 5)
})

test('keys that Object.prototype has are read back by V8, as own properties', (t) => {
  const values = [{ constructor: 1, toString: 'x', hasOwnProperty: null }]
  const bytes = write(values)
  t.is(readValue(bytes), NOT_PLAIN)
  t.deepEqual(decode(bytes), values)
})

test('reading never runs a setter planted on Object.prototype', (t) => {
  let calls = 0
  Object.defineProperty(Object.prototype, 'planted', { set() { calls++ }, configurable: true })
  try {
    const bytes = v8.serialize([{ planted: 1 }])
    t.is(readValue(bytes), NOT_PLAIN)
    t.is(Object.getOwnPropertyDescriptor(v8.deserialize(bytes)[0], 'planted').value, 1)
    t.is(calls, 0)
  } finally {
    delete Object.prototype.planted
  }
})

test('arrays of every length read back whole, and neither side runs a setter planted on Array.prototype', (t) => {
  const arrays = Array.from({ length: 8 }, (_, n) => Array.from({ length: n }, (_, i) => ({ i })))
  const written = new Map()
  const read = new Map()
  let calls = 0
  for (let i = 0; i < 6; i++) Object.defineProperty(Array.prototype, i, { set: () => calls++, configurable: true })
  try {
    for (const array of arrays) {
      const bytes = write([array, 'name'])
      written.set(array, bytes)
      if (bytes !== NOT_PLAIN) read.set(array, readValue(bytes))
    }
  } finally {
    // Before any assertion: the assertions' own code uses arrays.
    for (let i = 0; i < 6; i++) delete Array.prototype[i]
  }
  t.is(calls, 0, 'no setter on Array.prototype ran')
  for (const array of arrays) {
    t.true(written.get(array).equals(v8.serialize([array, 'name'])), `${array.length} elements`)
    t.deepEqual(read.get(array), [array, 'name'])
  }
})

test('objects seen in one value are forgotten by the next: a shared object is plain again on its own', (t) => {
  const shared = { s: 1 }
  t.is(write([shared, shared]), NOT_PLAIN)
  t.deepEqual(readValue(write([shared, { other: shared }].slice(1))), [{ other: shared }])
  // As many objects as the fast path takes, then one more.
  const objects = (n) => Array.from({ length: n - 1 }, (_, i) => ({ i }))
  t.not(write([objects(64)]), NOT_PLAIN)
  t.is(write([objects(65)]), NOT_PLAIN)
  t.deepEqual(readValue(write([shared])), [shared])
})

test('a getter that submits while a value is written gets the general path, not clobbered bytes', (t) => {
  let inner
  const value = {
    get nested() {
      inner = write(['inner'])
      return 1
    },
  }
  const outer = write([value])
  t.is(inner, NOT_PLAIN)
  t.deepEqual(v8.deserialize(outer), [{ nested: 1 }])
})

test('property: any JSON-like value round-trips through both paths, and V8 agrees', (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.option(fc.string()), (value, name) => {
      const values = [value, name ?? undefined]
      const v8Bytes = v8.serialize(values)
      const expected = v8.deserialize(v8Bytes)
      const fast = write(values)
      t.deepEqual(decode(v8Bytes), expected)
      if (fast === NOT_PLAIN) return
      t.deepEqual(v8.deserialize(fast), expected)
      t.deepEqual(decode(fast), expected)
    }),
    { numRuns: 2000 },
  )
})

test('property: strings of any length and characters round-trip, as V8 writes them', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'binary-ascii', minLength: 100, maxLength: 400 }), (any, latin) => {
      for (const values of [[any], [latin], [latin + any], [{ [latin]: any }]]) {
        const fast = write(values)
        // Strings are always plain; a key is left to V8 when it starts with a digit.
        if (typeof values[0] === 'string') t.not(fast, NOT_PLAIN)
        if (fast === NOT_PLAIN) continue
        t.deepEqual(v8.deserialize(fast), values)
        t.deepEqual(decode(fast), values)
      }
    }),
    { numRuns: 500 },
  )
})

test('a value read in place among others ends where it is told: the bytes after it are never read', (t) => {
  // The main thread reads each outcome of a batch in place, between its neighbours.
  // As the fast writer writes them: V8's own bytes for a value may differ between Node's lines.
  const values = plainValues.map((value) => write(value))
  const batch = Buffer.concat(values)
  let start = 0
  for (const [i, bytes] of values.entries()) {
    t.deepEqual(readValue(batch, start, start + bytes.length), plainValues[i])
    start += bytes.length
  }
  // Cut short, a value is not plain, even where the next one's bytes would complete
  // it: what follows is a whole value, so a reader running past the end would succeed.
  const whole = write(['a', 'b'])
  const pair = Buffer.concat([whole, whole])
  t.deepEqual(readValue(pair, 0, whole.length), ['a', 'b'])
  for (let end = 1; end < whole.length; end++) t.is(readValue(pair, 0, end), NOT_PLAIN, `cut at ${end}`)
  t.is(readValue(pair, 0, whole.length + 1), NOT_PLAIN)
})
