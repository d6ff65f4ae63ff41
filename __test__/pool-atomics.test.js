'use strict'

// The `atomics` option (piscina's): with 'sync', a worker with nothing in flight parks in
// Atomics.wait and the main thread wakes it with Atomics.notify; with 'async' and
// 'disabled' (the default) it sleeps in its event loop and is woken through it. Every mode
// must run every task exactly once however submissions and idle gaps interleave, and the
// pool's other paths (side channel, console, aborts, shutdown, exit) must not mind a
// parked worker.
const test = require('ava')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const { closeSync, mkdtempSync, openSync, readFileSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')
const { WorkerPool, move } = require('..')
const { fixtures } = require('./pool-helpers')

const MODULE = join(fixtures, 'atomics.js')
const MODES = ['sync', 'async', 'disabled']
/**
 * 'async' and 'disabled' take the same path (the loop wake-up; the timer tests below show
 * that 'async' is it): the costly tests run for one of them.
 */
const PATHS = ['sync', 'disabled']

function pool(t, options) {
  const made = new WorkerPool({ filename: MODULE, ...options })
  t.teardown(() => made.destroy())
  return made
}

/** A seeded generator, so that a failing interleaving can be replayed (BATON_SEED). */
function random(t) {
  let seed = Number(process.env.BATON_SEED) || Math.floor(Math.random() * 2 ** 31)
  t.log(`seed ${seed} (replay with BATON_SEED=${seed})`)
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
}

test('the atomics option defaults to disabled, is shown by options, and takes only sync, async or disabled', (t) => {
  t.is(pool(t, { minThreads: 0 }).options.atomics, 'disabled')
  for (const atomics of MODES) t.is(pool(t, { minThreads: 0, atomics }).options.atomics, atomics)
  for (const atomics of ['SYNC', '', 'none', true, 1, null, {}]) {
    const error = t.throws(() => new WorkerPool({ filename: MODULE, minThreads: 0, atomics }), { code: 'ERR_INVALID_ARG_VALUE' })
    t.regex(error.message, /The property 'options\.atomics' must be one of: 'sync', 'async', 'disabled'\. Received /)
    t.true(error instanceof TypeError)
  }
})

test('an inherited atomics option is not read', (t) => {
  Object.prototype.atomics = 'sync'
  try {
    t.is(pool(t, { minThreads: 0 }).options.atomics, 'disabled')
  } finally {
    delete Object.prototype.atomics
  }
})

for (const atomics of PATHS) {
  test(`atomics ${atomics}: an idle worker wakes for each task, with idle gaps between them`, async (t) => {
    const p = pool(t, { minThreads: 2, maxThreads: 2, atomics })
    for (let i = 0; i < 40; i++) {
      t.is(await p.run({ a: i, b: 1 }, { name: 'add' }), i + 1, `task ${i}`)
      await sleep(i % 4 === 0 ? 15 : 1 + (i % 3))
    }
    // Two at once go to both workers (the one with room), each woken from its own park; a
    // task that took no time could be done before the second is submitted.
    for (let i = 0; i < 10; i++) {
      const ids = await Promise.all([p.run(20, { name: 'threadIdAfter' }), p.run(20, { name: 'threadIdAfter' })])
      t.is(new Set(ids).size, 2, `ran on threads ${ids}; the pool's are ${p.threads.map((w) => w.threadId)}`)
      await sleep(10)
    }
    t.is(p.completed, 60, 'completed')
  })

  test(`atomics ${atomics}: no wake-up is lost under random submissions, bursts and idle gaps`, async (t) => {
    // Bounded: about two seconds of traffic; a lost wake-up leaves a task unsettled, which
    // the test's own timeout (far beyond the traffic's time) turns into a failure.
    t.timeout(30_000)
    const next = random(t)
    const p = pool(t, { minThreads: 1 + next(2), maxThreads: 2, concurrentTasksPerWorker: 1 + next(2), idleTimeout: 20 + next(50), atomics })
    const end = Date.now() + 2000
    const pending = []
    let expected = 0
    let aborted = 0
    while (Date.now() < end) {
      const burst = 1 + next(4)
      for (let i = 0; i < burst; i++) {
        const value = expected++
        switch (next(5)) {
          case 0:
            pending.push(p.run({ value, ms: next(3) }, { name: 'delayed' }).then((v) => t.is(v, value)))
            break
          case 1: {
            // Aborted at once, or at a random moment after it may have started.
            const controller = new AbortController()
            const run = p.run({ value, ms: next(4) }, { name: 'delayed', signal: controller.signal })
            pending.push(
              run.then(
                (v) => t.is(v, value),
                (error) => {
                  t.is(error.name, 'AbortError')
                  aborted++
                },
              ),
            )
            if (next(2) === 0) controller.abort()
            else setTimeout(() => controller.abort(), next(3))
            break
          }
          default:
            pending.push(p.run({ a: value, b: 0 }, { name: 'add' }).then((v) => t.is(v, value)))
        }
      }
      switch (next(4)) {
        case 0:
          break
        case 1:
          await new Promise((resolve) => setImmediate(resolve))
          break
        case 2:
          await sleep(next(3))
          break
        default:
          // Long enough for every worker to go idle and park (and, past idleTimeout, end).
          await Promise.all(pending)
          await sleep(next(60))
      }
    }
    await Promise.all(pending)
    t.log(`${expected} tasks, ${aborted} aborted`)
    t.is(p.completed + aborted, expected)
  })

  test(`atomics ${atomics}: terminating an idle worker, then close() and destroy(), settle and leave a working pool meanwhile`, async (t) => {
    t.timeout(20_000)
    const p = pool(t, { minThreads: 2, maxThreads: 2, atomics })
    await Promise.all([p.run({ a: 1, b: 1 }, { name: 'add' }), p.run({ a: 1, b: 1 }, { name: 'add' })])
    await sleep(50)
    const [worker] = p.threads
    const [code, [exited]] = await Promise.all([worker.terminate(), once(p, 'workerExit')])
    t.is(code, 1)
    t.is(exited, worker)
    // The replacement, and the worker that stayed parked, both take tasks.
    const sums = await Promise.all(Array.from({ length: 8 }, (_, i) => p.run({ a: i, b: 1 }, { name: 'add' })))
    t.deepEqual(sums, [1, 2, 3, 4, 5, 6, 7, 8])
    await sleep(50)
    await p.close()
    t.is(p.threads.length, 0)
    const q = pool(t, { minThreads: 2, maxThreads: 2, atomics })
    await q.run({ a: 1, b: 2 }, { name: 'add' })
    await sleep(50)
    await q.destroy()
    t.is(q.threads.length, 0)
  })

  test(`atomics ${atomics}: idleTimeout ends idle workers and a later task starts another`, async (t) => {
    const p = pool(t, { minThreads: 0, maxThreads: 2, idleTimeout: 30, atomics })
    await Promise.all([p.run({ a: 1, b: 1 }, { name: 'add' }), p.run({ value: 1, ms: 5 }, { name: 'delayed' })])
    t.true(p.threads.length > 0)
    while (p.threads.length > 0) await once(p, 'workerExit')
    t.is(await p.run({ a: 2, b: 3 }, { name: 'add' }), 5)
  })

  test(`atomics ${atomics}: moved and shared values, console output and 'message' events after idle gaps`, async (t) => {
    const p = pool(t, { minThreads: 1, maxThreads: 1, atomics })
    const messages = []
    p.on('message', (message) => messages.push(message))
    for (let i = 0; i < 5; i++) {
      await sleep(10)
      const bytes = new Uint8Array(1024)
      t.is(await p.run(move(bytes), { name: 'byteLength' }), 1024)
      t.is(bytes.byteLength, 0, 'moved, not copied')
      await sleep(10)
      const result = await p.run(`line ${i}`, { name: 'printAndMove' })
      t.is(new TextDecoder().decode(result), `line ${i}`)
      await sleep(10)
      t.is(await p.run(i, { name: 'postAfterReturn' }), i)
    }
    // Posted by a microtask after each task returned: the worker parks only after such work ran.
    while (messages.length < 5) await once(p, 'message')
    t.deepEqual(messages, [0, 1, 2, 3, 4].map((after) => ({ after })))
  })

  test(`atomics ${atomics}: a pool of several modules wakes for each of them`, async (t) => {
    const p = new WorkerPool({ minThreads: 1, maxThreads: 1, atomics })
    t.teardown(() => p.destroy())
    for (let i = 0; i < 5; i++) {
      await sleep(10)
      t.is(await p.run({ a: i, b: 2 }, { filename: MODULE, name: 'add' }), i + 2)
      await sleep(10)
      t.is(await p.run({ a: i, b: 3 }, { filename: join(fixtures, 'tasks.js'), name: 'add' }), i + 3)
    }
  })

  for (const end of ['exit', 'natural', 'terminate', 'print']) {
    test(`atomics ${atomics}: the process ends with idle workers (${end})`, async (t) => {
      // A hang is what a wait that the exit cannot interrupt would look like: 20 s is far
      // beyond the script's time.
      // Its stdout is a file, which takes every write at once: process.exit() drops what
      // waits for a slow pipe's reader in the main thread itself (Node's behaviour).
      const dir = mkdtempSync(join(tmpdir(), 'baton-atomics-'))
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      const out = openSync(join(dir, 'out'), 'w')
      const child = spawn(process.execPath, [join(fixtures, 'atomics-exit.js'), atomics, end], { stdio: ['ignore', out, 'inherit'], timeout: 20_000, killSignal: 'SIGKILL' })
      closeSync(out)
      const [code, signal] = await once(child, 'exit')
      const stdout = readFileSync(join(dir, 'out'), 'utf8')
      t.is(signal, null)
      t.is(code, end === 'exit' ? 7 : 0)
      if (end === 'print') {
        // Every line a task printed is out before its result, also from a woken worker.
        t.is(stdout, Array.from({ length: 500 }, (_, i) => `out ${i}\n`).join(''))
      } else {
        t.is(stdout, `${end === 'terminate' ? 'terminated 1\n' : ''}3 7\n`)
      }
    })
  }
}

// The trade-off piscina documents for its 'sync' mode: a parked worker's loop does not
// run. baton's parks only when nothing keeps its loop alive, so what stalls is what keeps
// nothing alive: an unref'd timer a finished task left fires once the next task wakes
// the worker.
test("atomics sync: an unref'd timer left by a finished task waits for the next task", async (t) => {
  t.timeout(20_000)
  const p = pool(t, { minThreads: 1, maxThreads: 1, atomics: 'sync' })
  const fired = []
  p.on('message', (message) => fired.push(message))
  // The worker parks within a turn of its loop after the task; the timer's half second
  // leaves room for a loaded machine (the tests run at once) to be slow at that, and the
  // wait three times it for the timer to have fired, had the loop run.
  const thread = await p.run(500, { name: 'unrefTimerLater' })
  await sleep(1500)
  t.deepEqual(fired, [])
  await p.run({ a: 1, b: 1 }, { name: 'add' })
  // Its loop runs after that task: the timer fires then (maybe before this line).
  while (fired.length === 0) await once(p, 'message')
  t.deepEqual(fired, [{ fired: thread }])
})

for (const atomics of MODES) {
  // A worker with a ref'd timer pending stays in its loop, 'sync' too: it fires on time.
  for (const name of atomics === 'sync' ? ['timerLater'] : ['timerLater', 'unrefTimerLater']) {
    test(`atomics ${atomics}: a timer left by a finished task (${name}) fires while the worker is idle`, async (t) => {
      // A stalled timer would wait for good: 20 s is far beyond its 20 ms.
      t.timeout(20_000)
      const p = pool(t, { minThreads: 1, maxThreads: 1, atomics })
      const fired = []
      p.on('message', (message) => fired.push(message))
      const thread = await p.run(20, { name })
      while (fired.length === 0) await once(p, 'message')
      t.deepEqual(fired, [{ fired: thread }])
      // And the worker, idle with nothing left in its loop, still wakes for the next task.
      await sleep(20)
      t.is(await p.run({ a: 1, b: 2 }, { name: 'add' }), 3)
    })
  }
}
