import test from 'ava'
import { createRequire } from 'node:module'
import { AsyncLocalStorage } from 'node:async_hooks'
import baton, { failingTask, fibonacci, performAsyncTask } from 'baton'

const require = createRequire(import.meta.url)

test('the ESM entry exports the very functions of the CommonJS entry', (t) => {
  const cjs = require('baton')
  t.is(fibonacci, cjs.fibonacci)
  t.is(performAsyncTask, cjs.performAsyncTask)
  t.is(failingTask, cjs.failingTask)
  t.is(baton, cjs)
  t.deepEqual(Object.keys(baton).sort(), ['failingTask', 'fibonacci', 'performAsyncTask'])
})

test('from ESM, a callback keeps the caller store', async (t) => {
  const als = new AsyncLocalStorage()
  const seen = await new Promise((resolve) => als.run('esm', () => fibonacci(30, () => resolve(als.getStore()))))
  t.is(seen, 'esm')
  t.is(await fibonacci(30), 832040n)
})
