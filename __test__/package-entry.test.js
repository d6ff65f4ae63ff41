'use strict'

// The CommonJS entry loads each part of the package when one of its exports is first
// read: a worker module that takes only `move` must not load the pool, the tasks and
// the context code into every worker thread.
const test = require('ava')
const { execFileSync } = require('node:child_process')
const { join } = require('node:path')

const ROOT = join(__dirname, '..')

/** Runs `source` in a fresh Node process at the package root; returns what it printed as JSON. */
function inFreshProcess(source) {
  return JSON.parse(execFileSync(process.execPath, ['-e', source], { cwd: ROOT, encoding: 'utf8' }))
}

const LOADED = `const loaded = () => Object.keys(require.cache).filter((file) => file.includes('${join(ROOT, 'lib')}')).map((file) => file.slice(${join(ROOT, 'lib').length + 1})).sort()`

test('requiring the package loads none of its parts, and reading `move` loads only what move needs', (t) => {
  const { atRequire, afterMove, keys } = inFreshProcess(`${LOADED}
    const baton = require('.')
    const atRequire = loaded()
    const keys = Object.keys(baton)
    baton.move
    console.log(JSON.stringify({ atRequire, afterMove: loaded(), keys }))`)
  t.deepEqual(atRequire, [])
  t.is(keys.length, 14)
  t.true(afterMove.includes('pool/move.js'))
  for (const part of ['pool/pool.js', 'pool/worker.js', 'tasks/index.js', 'context/storage.js', 'shared/binding.js']) {
    t.false(afterMove.includes(part), `${part} loaded for move`)
  }
})

test('each export is its module\'s own object, and stays one plain data property once read', (t) => {
  const baton = require('..')
  t.is(baton.WorkerPool, require('../lib/pool/pool').WorkerPool)
  t.is(baton.AsyncLocalStorage, require('../lib/context/storage').AsyncLocalStorage)
  t.is(baton.runInContext, require('../lib/context/carried').runInContext)
  t.is(baton.fibonacci, require('../lib/tasks').fibonacci)
  t.deepEqual(Object.getOwnPropertyDescriptor(baton, 'WorkerPool'), { value: baton.WorkerPool, writable: true, enumerable: true, configurable: true })
})

test('an export written before it was read keeps the written value (instrumentations wrap exports)', (t) => {
  const { written, same } = inFreshProcess(`
    const baton = require('.')
    const wrapper = function fibonacciWrapped() {}
    baton.fibonacci = wrapper
    console.log(JSON.stringify({ written: baton.fibonacci.name, same: require('.').fibonacci === wrapper }))`)
  t.is(written, 'fibonacciWrapped')
  t.true(same)
})
