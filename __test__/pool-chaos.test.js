'use strict'

const test = require('ava')
const { AsyncLocalStorage: NodeAsyncLocalStorage } = require('node:async_hooks')
const { setTimeout: sleep, setImmediate: tick } = require('node:timers/promises')
const { AsyncLocalStorage, WorkerPool, resources } = require('..')
const { TASKS } = require('./pool-helpers')

// `request` is marked, with the name fixtures/pool/tasks.js uses: the worker returns its clone.
const request = new AsyncLocalStorage({ name: 'request', cloneIntoWorkers: true })
const node = new NodeAsyncLocalStorage()

/** A small seeded generator, so that a failing run can be replayed from its seed. */
function random(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

test('chaos: thousands of tasks while workers die; each settles once, in its own context', async (t) => {
  const seed = Number(process.env.BATON_CHAOS_SEED ?? Date.now() % 1e9)
  t.log(`seed ${seed} (BATON_CHAOS_SEED replays it)`)
  const rand = random(seed)
  const pool = new WorkerPool({ filename: TASKS, name: 'chaos', maxThreads: 2, concurrentTasksPerWorker: 3, abortGracePeriod: 20 })
  const TASK_COUNT = 3000
  const settled = new Array(TASK_COUNT).fill(0)
  const problems = []
  const outcomes = { resolved: 0, exited: 0, aborted: 0 }

  const check = (id, how, error, value) => {
    settled[id]++
    const store = request.getStore()
    if (store?.id !== id || node.getStore() !== id) problems.push(`${id}: settled in context ${store?.id}/${node.getStore()}`)
    if (error === null) {
      if (value.id !== id || value.store?.id !== id) problems.push(`${id}: wrong value ${JSON.stringify(value)}`)
      outcomes.resolved++
    } else if (error.code === 'ERR_BATON_WORKER_EXITED') {
      outcomes.exited++
    } else if (error.name === 'AbortError' && how.aborted) {
      outcomes.aborted++
    } else {
      problems.push(`${id}: unexpected ${error.code ?? error.name}: ${error.message}`)
    }
    if (how.exit && error === null) problems.push(`${id}: exited and resolved`)
  }

  let killing = true
  let kills = 0
  const killed = new WeakSet()
  const killer = (async () => {
    while (killing) {
      await sleep(20 + rand() * 60)
      // Each worker once: every terminate() call adds an 'exit' listener.
      const threads = pool.threads.filter((worker) => !killed.has(worker))
      if (threads.length === 0) continue
      const victim = threads[Math.floor(rand() * threads.length)]
      killed.add(victim)
      victim.terminate()
      kills++
    }
  })()

  const all = []
  for (let id = 0; id < TASK_COUNT; id++) {
    const how = { exit: rand() < 0.004, wait: rand() < 0.3 ? Math.floor(rand() * 3) : 0, callback: rand() < 0.5, aborted: rand() < 0.02 }
    const task = { id, exit: how.exit, wait: how.wait }
    all.push(
      node.run(id, () =>
        request.run({ id }, () => {
          if (how.callback) {
            return new Promise((resolve) => {
              pool.runTask(task, (error, value) => {
                check(id, how, error, value)
                resolve()
              })
            })
          }
          const controller = new AbortController()
          const done = pool.run(task, { signal: controller.signal }).then(
            (value) => check(id, how, null, value),
            (error) => check(id, how, error),
          )
          if (how.aborted) setTimeout(() => controller.abort(), rand() * 20)
          return done
        }),
      ),
    )
    // Submitters come in bursts, from many turns of the loop.
    if (id % 100 === 99) await tick()
  }
  await Promise.all(all)
  killing = false
  await killer
  // Late second settlements would show up here.
  await sleep(50)

  t.deepEqual(problems.slice(0, 10), [])
  t.deepEqual(
    settled.flatMap((count, id) => (count === 1 ? [] : [`${id}: settled ${count} times`])),
    [],
  )
  t.log(`${kills} workers terminated; outcomes ${JSON.stringify(outcomes)}`)
  t.true(kills > 0)
  t.true(outcomes.resolved > TASK_COUNT / 2)

  // The pool is healthy: a final batch succeeds, and no task is left registered.
  const final = await Promise.all(Array.from({ length: 50 }, (_, i) => request.run({ id: i }, () => pool.run({ id: i }))))
  t.deepEqual(
    final.map((value) => value.store.id),
    Array.from({ length: 50 }, (_, i) => i),
  )
  await tick()
  t.deepEqual(
    resources().filter((r) => r.type === 'baton.WorkerPoolTask'),
    [],
  )
  t.is(pool.queueSize, 0)
  await pool.close()
  t.deepEqual(pool.threads, [])
})
