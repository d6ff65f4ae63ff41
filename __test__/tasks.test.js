'use strict'

const test = require('ava')
const { getEventListeners } = require('node:events')
const { fibonacci, failingTask, performAsyncTask } = require('..')
const binding = require('../lib/shared/binding')
const { callbackOutcome } = require('./helpers')

function slowFibonacci(n) {
  let [a, b] = [0n, 1n]
  for (let i = 0; i < n; i++) [a, b] = [b, a + b]
  return a
}

test('performAsyncTask resolves to 17', async (t) => {
  t.is(await performAsyncTask(), 17)
})

test('performAsyncTask calls back (null, 17) exactly once and returns nothing', async (t) => {
  let returned = 'unset'
  const { args, calls } = await callbackOutcome((cb) => {
    returned = performAsyncTask(cb)
  })
  t.is(returned, undefined)
  t.deepEqual(args, [null, 17])
  t.is(calls, 1)
})

test('the callback is never called synchronously', (t) => {
  let called = false
  performAsyncTask(() => {
    called = true
  })
  t.false(called)
})

test('failingTask rejects with an Error "I am a failing task"', async (t) => {
  const error = await t.throwsAsync(failingTask())
  t.true(error instanceof Error)
  t.is(error.message, 'I am a failing task')
})

test('failingTask calls back with the error alone, exactly once', async (t) => {
  const { args, calls } = await callbackOutcome((cb) => failingTask(cb))
  t.is(args.length, 1)
  t.true(args[0] instanceof Error)
  t.is(args[0].message, 'I am a failing task')
  t.is(calls, 1)
})

test('fibonacci gives exact values, as BigInt, in both forms', async (t) => {
  for (const n of [0, 1, 2, 3, 10, 64, 93, 94, 1000, 4321]) {
    t.is(await fibonacci(n), slowFibonacci(n), `F(${n})`)
  }
  const { args } = await callbackOutcome((cb) => fibonacci(90, cb))
  t.deepEqual(args, [null, 2880067194370816120n])
  const viaOptions = await callbackOutcome((cb) => fibonacci(12, {}, cb))
  t.deepEqual(viaOptions.args, [null, 144n])
})

test('the 100,000th Fibonacci number has 20,899 digits', async (t) => {
  const value = await fibonacci(100_000)
  t.is(value.toString().length, 20_899)
  t.is(value % 1_000_000n, 746_875n)
})

test('fibonacci reaches n = 1,000,000 (208,988 digits)', async (t) => {
  const value = await fibonacci(1_000_000)
  // F(n) ≈ φ^n / √5, so its bit length is known in advance.
  const bits = value.toString(2).length
  t.is(bits, Math.floor(1_000_000 * Math.log2((1 + Math.sqrt(5)) / 2) - Math.log2(Math.sqrt(5))) + 1)
  t.is(value.toString().length, 208_988)
})

test('onProgress reports fractions in [0, 1], monotonically, ending at 1, all before the callback', async (t) => {
  const seen = []
  let settled = false
  let lateReports = 0
  const { args } = await callbackOutcome((cb) =>
    fibonacci(
      200_000,
      {
        onProgress: (fraction) => {
          if (settled) lateReports += 1
          seen.push(fraction)
        },
      },
      (...args) => {
        settled = true
        cb(...args)
      },
    ),
  )
  t.is(args[0], null)
  t.true(seen.length >= 10, `${seen.length} reports`)
  for (let i = 0; i < seen.length; i++) {
    t.true(seen[i] >= 0 && seen[i] <= 1, `report ${i} = ${seen[i]}`)
    if (i > 0) t.true(seen[i] >= seen[i - 1], `report ${i} goes back: ${seen[i - 1]} -> ${seen[i]}`)
  }
  t.is(seen.at(-1), 1)
  t.is(lateReports, 0)
})

test('onProgress also works with the Promise form, and reports arrive before it resolves', async (t) => {
  const seen = []
  const value = await fibonacci(50_000, { onProgress: (f) => seen.push(f) })
  t.is(value.toString().length, 10_450)
  t.is(seen.at(-1), 1)
})

test('an already-aborted signal rejects with AbortError and the reason as cause, without running', async (t) => {
  const reason = new Error('stop before start')
  const signal = AbortSignal.abort(reason)
  let progressed = false
  const error = await t.throwsAsync(fibonacci(1_000_000, { signal, onProgress: () => (progressed = true) }))
  t.is(error.name, 'AbortError')
  t.is(error.code, 'ABORT_ERR')
  t.is(error.cause, reason)
  t.false(progressed)
})

test('an already-aborted signal calls back asynchronously with AbortError', async (t) => {
  const signal = AbortSignal.abort('early')
  let sync = true
  const { args, calls } = await callbackOutcome((cb) => {
    fibonacci(10, { signal }, (...args) => {
      t.false(sync, 'called back synchronously')
      cb(...args)
    })
    sync = false
  })
  t.is(args[0].name, 'AbortError')
  t.is(args[0].cause, 'early')
  t.is(calls, 1)
})

test('aborting while the task runs stops it with AbortError (Promise form)', async (t) => {
  const controller = new AbortController()
  const reason = new Error('user left')
  let reports = 0
  const running = fibonacci(30_000_000, {
    signal: controller.signal,
    onProgress: () => {
      reports += 1
      controller.abort(reason)
    },
  })
  const error = await t.throwsAsync(running)
  t.is(error.name, 'AbortError')
  t.is(error.cause, reason)
  t.true(reports >= 1, 'it was running')
  t.is(getEventListeners(controller.signal, 'abort').length, 0)
})

test('aborting while the task runs stops it with AbortError (callback form), exactly once', async (t) => {
  const controller = new AbortController()
  const { args, calls } = await callbackOutcome((cb) =>
    fibonacci(30_000_000, { signal: controller.signal, onProgress: () => controller.abort('enough') }, cb),
  )
  t.is(args[0].name, 'AbortError')
  t.is(args[0].cause, 'enough')
  t.is(calls, 1)
})

test('aborting tasks still queued behind a busy pool settles every one of them', async (t) => {
  // More long tasks than libuv has threads (4 by default): some wait in its queue.
  const controller = new AbortController()
  const runs = Array.from({ length: 8 }, () => fibonacci(30_000_000, { signal: controller.signal }))
  setTimeout(() => controller.abort('shutdown'), 20)
  const outcomes = await Promise.allSettled(runs)
  for (const outcome of outcomes) {
    t.is(outcome.status, 'rejected')
    t.is(outcome.reason.name, 'AbortError')
    t.is(outcome.reason.cause, 'shutdown')
  }
})

test('a signal that never fires is let go when the task settles', async (t) => {
  const controller = new AbortController()
  t.is(await fibonacci(100, { signal: controller.signal }), 354224848179261915075n)
  t.is(getEventListeners(controller.signal, 'abort').length, 0)
  const { args } = await callbackOutcome((cb) => fibonacci(100, { signal: controller.signal }, cb))
  t.is(args[1], 354224848179261915075n)
  t.is(getEventListeners(controller.signal, 'abort').length, 0)
})

test('many more tasks than pool threads all settle, each with its own result', async (t) => {
  const ns = Array.from({ length: 300 }, (_, i) => 1000 + i * 37)
  const promised = Promise.all(ns.map((n) => fibonacci(n)))
  const calledBack = Promise.all(
    ns.map((n) => new Promise((resolve, reject) => fibonacci(n, (err, v) => (err ? reject(err) : resolve(v))))),
  )
  const [a, b] = await Promise.all([promised, calledBack])
  for (let i = 0; i < ns.length; i++) {
    t.is(a[i], b[i])
  }
  t.is(a[10], slowFibonacci(ns[10]))
  const seventeens = await Promise.all(Array.from({ length: 2000 }, () => performAsyncTask()))
  t.true(seventeens.every((v) => v === 17))
})

test('a panic in perform becomes an ERR_BATON_PANIC error, not an abort', async (t) => {
  const error = await t.throwsAsync(binding.panickingTask('perform'))
  t.is(error.code, 'ERR_BATON_PANIC')
  t.regex(error.message, /on purpose in perform/)
  const { args, calls } = await callbackOutcome((cb) => binding.panickingTask('perform', undefined, undefined, cb))
  t.is(args[0].code, 'ERR_BATON_PANIC')
  t.is(calls, 1)
})

test('a panic in complete becomes an ERR_BATON_PANIC error, and the process goes on', async (t) => {
  const error = await t.throwsAsync(binding.panickingTask('complete'))
  t.is(error.code, 'ERR_BATON_PANIC')
  t.regex(error.message, /on purpose in complete/)
  const { args, calls } = await callbackOutcome((cb) => binding.panickingTask('complete', undefined, undefined, cb))
  t.regex(args[0].message, /on purpose in complete/)
  t.is(args[0].code, 'ERR_BATON_PANIC')
  t.is(calls, 1)
  t.is(await performAsyncTask(), 17)
})

test('a panic converting the value to JS becomes an ERR_BATON_PANIC error, settled once', async (t) => {
  const error = await t.throwsAsync(binding.panickingTask('convert'))
  t.is(error.code, 'ERR_BATON_PANIC')
  t.regex(error.message, /on purpose in the conversion/)
  const { args, calls } = await callbackOutcome((cb) => binding.panickingTask('convert', undefined, undefined, cb))
  t.is(args[0].code, 'ERR_BATON_PANIC')
  t.is(calls, 1)
})

test("a task's own error carries no napi-rs status name as its code, in either form", async (t) => {
  const rejected = await t.throwsAsync(failingTask())
  t.false('code' in rejected, `code: ${rejected.code}`)
  const { args } = await callbackOutcome((cb) => failingTask(cb))
  t.false('code' in args[0], `code: ${args[0].code}`)
})

test('the native fibonacci refuses n above its limit with ERR_OUT_OF_RANGE, as the JS side does', (t) => {
  const native = t.throws(() => binding.fibonacciTask(binding.FIBONACCI_MAX_N + 1), { instanceOf: RangeError })
  t.is(native.code, 'ERR_OUT_OF_RANGE')
  t.throws(() => fibonacci(binding.FIBONACCI_MAX_N + 1), { code: 'ERR_OUT_OF_RANGE', instanceOf: RangeError })
})
