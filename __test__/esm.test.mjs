import test from 'ava'
import { createRequire } from 'node:module'
import { AsyncLocalStorage as NodeAsyncLocalStorage } from 'node:async_hooks'
import baton, { AsyncContext, AsyncLocalStorage, AsyncResource, EventEmitterAsyncResource, WorkerPool, exportContext, failingTask, fibonacci, move, performAsyncTask, resources, runInContext, transferableSymbol, valueSymbol } from 'async-baton'

const require = createRequire(import.meta.url)

test('the ESM entry exports the very functions of the CommonJS entry', (t) => {
  const cjs = require('async-baton')
  t.is(fibonacci, cjs.fibonacci)
  t.is(performAsyncTask, cjs.performAsyncTask)
  t.is(failingTask, cjs.failingTask)
  t.is(AsyncLocalStorage, cjs.AsyncLocalStorage)
  t.is(AsyncResource, cjs.AsyncResource)
  t.is(EventEmitterAsyncResource, cjs.EventEmitterAsyncResource)
  t.is(AsyncContext, cjs.AsyncContext)
  t.is(resources, cjs.resources)
  t.is(WorkerPool, cjs.WorkerPool)
  t.is(exportContext, cjs.exportContext)
  t.is(runInContext, cjs.runInContext)
  t.is(move, cjs.move)
  t.is(transferableSymbol, cjs.transferableSymbol)
  t.is(valueSymbol, cjs.valueSymbol)
  t.is(baton, cjs)
  t.deepEqual(Object.keys(baton).sort(), [
    'AsyncContext',
    'AsyncLocalStorage',
    'AsyncResource',
    'EventEmitterAsyncResource',
    'WorkerPool',
    'exportContext',
    'failingTask',
    'fibonacci',
    'move',
    'performAsyncTask',
    'resources',
    'runInContext',
    'transferableSymbol',
    'valueSymbol',
  ])
})

test("from ESM, a callback keeps the caller's stores, baton's and Node's", async (t) => {
  const als = new AsyncLocalStorage()
  const nodeAls = new NodeAsyncLocalStorage()
  const seen = await new Promise((resolve) =>
    als.run('esm', () => nodeAls.run('node', () => fibonacci(30, () => resolve([als.getStore(), nodeAls.getStore()])))),
  )
  t.deepEqual(seen, ['esm', 'node'])
  t.is(await fibonacci(30), 832040n)
})
