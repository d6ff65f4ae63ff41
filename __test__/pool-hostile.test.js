'use strict'

// Values a handler throws or returns that baton cannot send back as they are: each such
// task rejects with an error that says why, and nothing else is affected.
const test = require('ava')
const { join } = require('node:path')
const { WorkerPool } = require('..')
const { fixtures } = require('./pool-helpers')

const HOSTILE = join(fixtures, 'hostile.js')

// One worker taking many tasks at once: the hostile one arrives in a batch with others.
let pool
const exits = []
test.before(() => {
  pool = new WorkerPool({ filename: HOSTILE, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 16 })
  pool.on('workerExit', (worker, code) => exits.push(code))
})
test.after.always(() => pool.close())

const NOT_CLONEABLE = {
  cyclicCause: /its cause chain is cyclic/,
  deepCause: /its cause chain is longer than 64 errors/,
  symbolName: /its name is of type symbol, not a string/,
  functionMessage: /its message is of type function, not a string/,
  throwingName: /reading its name threw: the name getter threw/,
  throwingMessage: /reading its message threw: the message getter threw/,
  throwingStack: /reading its stack threw: the stack getter threw/,
  throwingConstructor: /reading its constructor\.name threw: the constructor getter threw/,
  throwingProxy: /a trap threw/,
  revokedProxy: /revoked/,
}

/** Submits `hostile` between tasks that must settle as usual, all in one turn. */
async function amongOthers(t, hostile) {
  const before = [pool.run({ a: 1, b: 2 }, { name: 'add' }), pool.run({ a: 3, b: 4 }, { name: 'addLater' })]
  const outcome = hostile().then(
    (value) => ({ value }),
    (error) => ({ error }),
  )
  const after = [pool.run({ a: 5, b: 6 }, { name: 'add' }), pool.run({ a: 7, b: 8 }, { name: 'addLater' })]
  t.deepEqual(await Promise.all([...before, ...after]), [3, 7, 11, 15])
  return outcome
}

for (const [kind, message] of Object.entries(NOT_CLONEABLE)) {
  for (const name of ['throwSync', 'throwAsync']) {
    test.serial(`${name}: ${kind} rejects with ERR_BATON_ERROR_NOT_CLONEABLE; the batch's other tasks settle`, async (t) => {
      const { error } = await amongOthers(t, () => pool.run(kind, { name }))
      t.true(error instanceof TypeError)
      t.is(error.code, 'ERR_BATON_ERROR_NOT_CLONEABLE')
      t.regex(error.message, /^The task threw a value that cannot be sent from the worker: /)
      t.regex(error.message, message)
      t.deepEqual(exits, [])
    })
  }
}

const RESULTS = {
  throwingGetter: { message: 'the result getter threw' },
  throwingProxy: { message: 'a trap threw' },
  revokedProxy: { instanceOf: TypeError, message: /revoked/ },
  cyclicWithFunction: { name: 'DataCloneError', message: /could not be cloned/ },
}

for (const [kind, expected] of Object.entries(RESULTS)) {
  for (const name of ['returnSync', 'returnAsync']) {
    test.serial(`${name}: a ${kind} result rejects with the error that reading or cloning it gives`, async (t) => {
      const { error } = await amongOthers(t, () => pool.run(kind, { name }))
      t.truthy(error)
      if (expected.instanceOf) t.true(error instanceof expected.instanceOf)
      if (expected.name) t.is(error.name, expected.name)
      if (typeof expected.message === 'string') t.is(error.message, expected.message)
      else t.regex(error.message, expected.message)
      t.deepEqual(exits, [])
    })
  }
}

test.serial('the same worker ran everything: no worker exited or was replaced', async (t) => {
  t.is(pool.threads.length, 1)
  t.deepEqual(exits, [])
  t.is(await pool.run({ a: 1, b: 1 }, { name: 'add' }), 2)
})

test('an error with an own __proto__ key keeps its prototype; the key stays a property', async (t) => {
  const error = await t.throwsAsync(pool.run(undefined, { name: 'throwProtoKey' }))
  t.is(Object.getPrototypeOf(error), RangeError.prototype)
  t.true(Object.hasOwn(error, '__proto__'))
  t.deepEqual(Object.getOwnPropertyDescriptor(error, '__proto__').value, { injected: true })
  t.is(error.injected, undefined)
})
