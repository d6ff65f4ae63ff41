'use strict'

// The native registry: what is alive, and that it empties again. Needs --expose-gc
// (set for every test file in package.json's ava config).

const test = require('ava')
const { setImmediate: tick } = require('node:timers/promises')
const { AsyncLocalStorage, AsyncResource, fibonacci, resources } = require('..')

async function collectGarbage() {
  // FinalizationRegistry callbacks run in a later task, after the collection.
  for (let i = 0; i < 5; i++) {
    global.gc()
    await tick()
  }
}

const ours = (type) => resources().filter((entry) => entry.type === type)

test.serial('a resource is listed with its type, ids, thread and time until emitDestroy', async (t) => {
  const before = Date.now()
  const resource = new AsyncResource('registry.Listed', { triggerAsyncId: 5 })
  const [entry] = ours('registry.Listed')
  t.like(entry, { kind: 'resource', id: resource.asyncId(), triggerAsyncId: 5, type: 'registry.Listed' })
  t.true(entry.thread >= 1)
  t.true(entry.since >= before - 1 && entry.since <= Date.now() + 1)
  resource.emitDestroy()
  t.deepEqual(ours('registry.Listed'), [])
})

test.serial('resources destroyed within their job never reach the registry, in any order; the others do', async (t) => {
  const ids = () => ours('registry.Young').map((entry) => entry.id).sort((a, b) => a - b)
  const made = Array.from({ length: 6 }, () => new AsyncResource('registry.Young'))
  made[5].emitDestroy() // the newest: leaves the young ones at once
  made[1].emitDestroy() // an older one: stays among them, destroyed
  made[4].emitDestroy() // the newest again
  const later = new AsyncResource('registry.Young')
  await tick()
  t.deepEqual(ids(), [made[0], made[2], made[3], later].map((resource) => resource.asyncId()))
  for (const resource of [...made, later]) resource.emitDestroy()
  t.deepEqual(ids(), [])

  // More than a batch in one job: the first batch is written before the job ends.
  const many = Array.from({ length: 2500 }, () => new AsyncResource('registry.Young'))
  many.forEach((resource, i) => i % 2 && resource.emitDestroy())
  await tick()
  t.is(ids().length, 1250)
  for (const resource of many) resource.emitDestroy()
  t.deepEqual(ids(), [])
})

test.serial('a task is listed while it runs and leaves when it settles', async (t) => {
  const running = fibonacci(2_000_000)
  const listed = ours('baton.fibonacci')
  t.is(listed.length, 1)
  t.is(listed[0].kind, 'task')
  await running
  t.deepEqual(ours('baton.fibonacci'), [])
})

test.serial('a million resources and ten thousand tasks later the registry is empty and the heap is flat', async (t) => {
  const als = new AsyncLocalStorage()
  const churn = async (count) => {
    for (let i = 0; i < count; i++) {
      const resource = als.run(i, () => new AsyncResource('registry.Churn'))
      resource.runInAsyncScope(() => als.getStore())
      resource.emitDestroy()
      // Some resources outlive their job, so batches reach Rust too.
      if (i % 1000 === 0) await tick()
    }
    await Promise.all(Array.from({ length: 5000 }, (_, i) => (i % 2 ? fibonacci(50) : new Promise((r) => fibonacci(50, r)))))
  }
  await churn(500_000)
  await collectGarbage()
  const heapAfterFirst = process.memoryUsage().heapUsed
  await churn(500_000)
  await collectGarbage()
  const growth = process.memoryUsage().heapUsed - heapAfterFirst
  t.deepEqual(resources(), [])
  t.true(growth < 4 * 1024 * 1024, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB over the second half`)
})

test.serial('resources never destroyed leave the registry when collected, unless requireManualDestroy', async (t) => {
  const manual = new AsyncResource('registry.Manual', { requireManualDestroy: true })
  ;(() => {
    for (let i = 0; i < 100; i++) new AsyncResource('registry.Dropped')
  })()
  await tick()
  t.is(ours('registry.Dropped').length, 100)
  await collectGarbage()
  t.is(ours('registry.Dropped').length, 0)
  t.is(ours('registry.Manual').length, 1, 'kept until emitDestroy')
  manual.emitDestroy()
  t.is(ours('registry.Manual').length, 0)
})

test.serial('storages, resources and stores are garbage-collected once unreachable', async (t) => {
  let storage = new AsyncLocalStorage()
  let store = { big: new Array(1000).fill(0) }
  let resource = storage.run(store, () => new AsyncResource('registry.Collectable'))
  storage.run(store, () => storage.getStore())
  const refs = [new WeakRef(storage), new WeakRef(store), new WeakRef(resource)]
  storage = store = resource = undefined
  await collectGarbage()
  t.deepEqual(refs.map((ref) => ref.deref()), [undefined, undefined, undefined])
})

test.serial('a worker thread that ends, by exiting or terminated, leaves nothing in the registry', async (t) => {
  const { Worker } = require('node:worker_threads')
  const { join } = require('node:path')
  // Each worker loads baton, makes resources (half never destroyed, as requireManualDestroy
  // allows) and native tasks, reports, then waits to be told how to end.
  const source = `
    const { parentPort } = require('node:worker_threads')
    const { AsyncResource, fibonacci } = require(${JSON.stringify(join(__dirname, '..', 'index.js'))})
    const kept = []
    for (let i = 0; i < 100; i++) {
      kept.push(new AsyncResource('registry.Worker', { requireManualDestroy: i % 2 === 0 }))
    }
    const controller = new AbortController()
    const tasks = [fibonacci(2_000_000), fibonacci(1_000, { signal: controller.signal }), new Promise((r) => fibonacci(3_000_000, r))]
    setImmediate(() => parentPort.postMessage('ready'))
    parentPort.once('message', (how) => {
      if (how === 'exit') Promise.all(tasks).then(() => process.exit(0))
    })
  `
  const workers = Array.from({ length: 20 }, () => new Worker(source, { eval: true }))
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))))
  t.is(ours('registry.Worker').length, 2000, 'listed while their threads live')
  t.true(ours('baton.fibonacci').length > 0, 'tasks listed while their threads live')
  await Promise.all(
    workers.map((worker, i) => {
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      if (i % 2) worker.terminate()
      else worker.postMessage('exit')
      return exited
    }),
  )
  t.deepEqual(ours('registry.Worker'), [])
  t.deepEqual(ours('baton.fibonacci'), [])
})
