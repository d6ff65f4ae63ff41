'use strict'

const test = require('ava')
const { fibonacci, failingTask, performAsyncTask } = require('..')

// Each case: a call, and the error Node's own validators would throw for it.
const cases = [
  [() => fibonacci(), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "n" argument must be of type number. Received undefined'],
  [() => fibonacci('5'), TypeError, 'ERR_INVALID_ARG_TYPE', `The "n" argument must be of type number. Received type string ('5')`],
  [() => fibonacci(5n), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "n" argument must be of type number. Received type bigint (5n)'],
  [() => fibonacci(null), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "n" argument must be of type number. Received null'],
  [() => fibonacci(-1), RangeError, 'ERR_OUT_OF_RANGE', 'The value of "n" is out of range. It must be >= 0 && <= 100000000. Received -1'],
  [() => fibonacci(2.5), RangeError, 'ERR_OUT_OF_RANGE', 'The value of "n" is out of range. It must be an integer. Received 2.5'],
  [() => fibonacci(NaN), RangeError, 'ERR_OUT_OF_RANGE', 'The value of "n" is out of range. It must be an integer. Received NaN'],
  [() => fibonacci(Infinity), RangeError, 'ERR_OUT_OF_RANGE', 'The value of "n" is out of range. It must be an integer. Received Infinity'],
  [() => fibonacci(100_000_001), RangeError, 'ERR_OUT_OF_RANGE', 'The value of "n" is out of range. It must be >= 0 && <= 100000000. Received 100000001'],
  [() => fibonacci(2 ** 40), RangeError, 'ERR_OUT_OF_RANGE', 'The value of "n" is out of range. It must be >= 0 && <= 100000000. Received 1_099_511_627_776'],
  [() => fibonacci(1, null), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object. Received null'],
  [() => fibonacci(1, 'fast'), TypeError, 'ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received type string ('fast')`],
  [() => fibonacci(1, {}, 42), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "callback" argument must be of type function. Received type number (42)'],
  [() => fibonacci(1, { signal: {} }), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.signal" property must be an instance of AbortSignal. Received an instance of Object'],
  [() => fibonacci(1, { signal: new AbortController() }), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.signal" property must be an instance of AbortSignal. Received an instance of AbortController'],
  [() => fibonacci(1, { onProgress: true }), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.onProgress" property must be of type function. Received type boolean (true)'],
  [() => performAsyncTask('cb'), TypeError, 'ERR_INVALID_ARG_TYPE', `The "callback" argument must be of type function. Received type string ('cb')`],
  [() => failingTask({}), TypeError, 'ERR_INVALID_ARG_TYPE', 'The "callback" argument must be of type function. Received an instance of Object'],
]

for (const [call, Class, code, message] of cases) {
  test(`throws synchronously: ${call.toString().slice(6)}`, (t) => {
    const error = t.throws(call)
    t.true(error instanceof Class, `${error.constructor.name} is not ${Class.name}`)
    t.is(error.code, code)
    t.is(error.message, message)
    t.true(error.stack.startsWith(`${Class.name} [${code}]: `), error.stack.split('\n')[0])
    t.is(error.name, Class.name)
  })
}

test('a bad argument starts no work: the callback is never called', async (t) => {
  let called = false
  t.throws(() => fibonacci(-1, () => (called = true)))
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.false(called)
})
