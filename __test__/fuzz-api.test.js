'use strict'

// Fuzz: every export and constructor of baton called with hostile values (fast-check).
// The property, for each call: it works, or it throws (or rejects) an Error with a
// documented code (Node's ERR_*, ABORT_ERR, a DataCloneError, or baton's ERR_BATON_*).
// Two more outcomes are the caller's own, and pass through unchanged: an error raised by
// the hostile value itself (a Proxy trap or getter of ours, V8's TypeError for a revoked
// Proxy), and the code-less TypeError that Node's own counterpart throws for the same
// call (`run(store, 5)`: "fn is not a function" on every Node line). Never a crash, a
// hang (each async outcome is bounded) or a wrong context (a surrounding run()'s store
// is still seen after the call and inside every callback of ours).
//
// Seeds: each property logs its seed; fast-check prints the seed and path of a
// failure. Replay with BATON_FUZZ_SEED=<seed> BATON_FUZZ_PATH=<path> npx ava
// __test__/fuzz-api.test.js (BATON_FUZZ_RUNS sets the number of runs).

const test = require('ava')
const fc = require('fast-check')
const { join } = require('node:path')
const nodeHooks = require('node:async_hooks')
const { EventEmitterAsyncResource: NodeEventEmitterAsyncResource } = require('node:events')
const baton = require('..')

const { AsyncContext, AsyncLocalStorage, AsyncResource, EventEmitterAsyncResource, WorkerPool } = baton
const HANDLERS = join(__dirname, 'fixtures', 'fuzz', 'handlers.js')
const RUNS = Number(process.env.BATON_FUZZ_RUNS ?? 60)
// A settled outcome takes milliseconds; 2 s only catches a hang.
const HANG_MS = 2000

function settings(t) {
  const seed = process.env.BATON_FUZZ_SEED === undefined ? (Date.now() ^ (Math.random() * 2 ** 31)) | 0 : Number(process.env.BATON_FUZZ_SEED)
  t.log(`seed ${seed} (BATON_FUZZ_SEED=${seed} replays it)`)
  return { seed, path: process.env.BATON_FUZZ_PATH, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true }
}

// ---- Hostile values, generated as descriptions (printable, replayable) ----------------

/** Raised by our own traps and getters: it must come out of baton unchanged. */
class Hostile extends Error {}
const trap = () => {
  throw new Hostile('a trap of the fuzz')
}

const OPTION_KEYS = ['name', 'defaultValue', 'cloneIntoWorkers', 'signal', 'onProgress', 'triggerAsyncId', 'requireManualDestroy', 'filename', 'minThreads', 'maxThreads', 'idleTimeout', 'maxQueue', 'concurrentTasksPerWorker', 'abortGracePeriod', 'resourceLimits', 'execArgv', 'env', 'workerData', 'transferList', 'force', 'captureRejections']

const ODD_NUMBERS = [NaN, -0, 0, 1, -1, 1.5, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 100_000_001]

const leaf = fc.oneof(
  fc.constantFrom(...ODD_NUMBERS).map((v) => ({ number: v })),
  fc.double().map((v) => ({ number: v })),
  fc.integer().map((v) => ({ number: v })),
  fc.bigInt().map((v) => ({ bigint: v })),
  fc.string({ maxLength: 8 }).map((v) => ({ string: v })),
  fc.string({ maxLength: 8 }).map((v) => ({ symbol: v })),
  fc.constantFrom('undefined', 'null', 'true', 'false', 'proxy', 'functionProxy', 'revoked', 'getters', 'nullPrototype', 'function', 'array', 'abortedSignal', 'signal', 'date', 'url').map((kind) => ({ kind })),
)
const hostile = fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...OPTION_KEYS), leaf, { maxKeys: 3 }).map((entries) => ({ object: entries })) })

/** Builds the value a description stands for; `calls` counts calls of the functions in it. */
function materialize(description, probe) {
  if ('number' in description) return description.number
  if ('bigint' in description) return description.bigint
  if ('string' in description) return description.string
  if ('symbol' in description) return Symbol(description.symbol)
  if ('object' in description) {
    const object = {}
    for (const [key, value] of Object.entries(description.object)) object[key] = materialize(value, probe)
    return object
  }
  switch (description.kind) {
    case 'undefined':
      return undefined
    case 'null':
      return null
    case 'true':
      return true
    case 'false':
      return false
    case 'proxy':
      return new Proxy({}, allTraps())
    case 'functionProxy':
      return new Proxy(function target() {}, allTraps())
    case 'revoked': {
      const { proxy, revoke } = Proxy.revocable({}, {})
      revoke()
      return proxy
    }
    case 'getters': {
      const object = {}
      for (const key of [...OPTION_KEYS, 'then', 'toString', 'valueOf', Symbol.toPrimitive, Symbol.iterator]) Object.defineProperty(object, key, { get: trap, enumerable: true })
      return object
    }
    case 'nullPrototype':
      return Object.create(null)
    case 'function':
      return probe.callback
    case 'array':
      return [1, , 'x']
    case 'abortedSignal':
      return AbortSignal.abort(new Hostile('the reason'))
    case 'signal':
      return new AbortController().signal
    case 'date':
      return new Date(NaN)
    default:
      return new URL('file:///nonexistent/fuzz.js')
  }
}

function allTraps() {
  const traps = {}
  for (const name of ['get', 'set', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'defineProperty', 'deleteProperty', 'getPrototypeOf', 'setPrototypeOf', 'isExtensible', 'preventExtensions', 'apply', 'construct']) traps[name] = trap
  return traps
}

// ---- The property ---------------------------------------------------------------------

const context = new AsyncLocalStorage()
const nodeContext = new nodeHooks.AsyncLocalStorage()

/** The store our callbacks must see: both storages, baton's and Node's. */
function makeProbe(token) {
  const seen = []
  return {
    seen,
    callback: function probeCallback() {
      seen.push([context.getStore(), nodeContext.getStore()])
      return 'probe'
    },
    check(problems, where) {
      for (const [ours, node] of seen) {
        if (ours !== token || node !== token) problems.push(`${shown}: a callback saw ${String(ours)}/${String(node)}, not ${token}`)
      }
    },
  }
}

let tokens = 0
const DOCUMENTED = /^(ERR_[A-Z0-9_]+|ABORT_ERR)$/

/** Why `error` is not an allowed outcome, or undefined if it is. */
function disallowed(error, nodeError) {
  if (error instanceof Hostile) return undefined
  if (error instanceof Error && DOCUMENTED.test(error.code)) return undefined
  if (error instanceof DOMException && error.name === 'DataCloneError') return undefined
  if (error instanceof TypeError && /proxy that has been revoked/.test(error.message)) return undefined
  // Node's own counterpart throws the same kind of code-less error for this call.
  if (nodeError !== undefined && error?.constructor === nodeError?.constructor && nodeError.code === undefined && error.code === undefined) return undefined
  return `threw ${describe(error)}`
}

function describe(error) {
  try {
    return error instanceof Error ? `${error.constructor.name} ${error.code ?? '(no code)'}: ${error.message}` : `non-Error ${typeof error}`
  } catch {
    return 'an unprintable value'
  }
}

/** `promise`'s value, or `onHang` after `ms`. A plain timer: timers/promises would read a polluted `signal`. */
function raceHang(promise, ms, onHang) {
  let timer
  const hang = new Promise((resolve) => {
    timer = setTimeout(resolve, ms, onHang)
  })
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer))
}

function within(promise, ms) {
  return raceHang(promise.then(() => 'settled', (error) => ({ error })), ms, 'hang')
}

/** Descriptions as JSON, with what JSON cannot show (BigInt, -0, NaN, Infinity) spelled out. */
function where(descriptions) {
  return JSON.stringify(descriptions, (key, value) => (typeof value === 'bigint' ? `${value}n` : Object.is(value, -0) ? '-0' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : value))
}

/**
 * Runs `call(values, probe)` inside run() of both probe storages and checks the
 * property; `nodeCall`, if given, is the same call on Node's own API (for the
 * code-less errors Node throws too). Resolves with a list of problems.
 */
async function check(call, descriptions, nodeCall) {
  const token = `fuzz token ${++tokens}`
  const probe = makeProbe(token)
  const problems = []
  const shown = where(descriptions)
  let outcome
  let thrown
  context.run(token, () =>
    nodeContext.run(token, () => {
      const values = descriptions.map((d) => materialize(d, probe))
      try {
        outcome = call(values, probe)
      } catch (error) {
        thrown = { error }
      }
      if (context.getStore() !== token || nodeContext.getStore() !== token) problems.push(`${shown}: the caller's context changed after the call`)
    }),
  )
  if (thrown !== undefined) {
    let nodeError
    if (nodeCall !== undefined) {
      try {
        nodeCall(descriptions.map((d) => materialize(d, makeProbe(token))))
      } catch (error) {
        nodeError = error
      }
    }
    const why = disallowed(thrown.error, nodeError)
    if (why !== undefined) problems.push(`${shown}: ${why}`)
  } else if (isThenable(outcome)) {
    const settled = await within(Promise.resolve(outcome), HANG_MS)
    if (settled === 'hang') problems.push(`${shown}: did not settle within ${HANG_MS} ms`)
    else if (settled !== 'settled') {
      const why = disallowed(settled.error)
      if (why !== undefined) problems.push(`${shown}: rejected: ${why.slice('threw '.length)}`)
    }
  }
  // Callbacks that baton calls later (tasks, timers) get a moment to run.
  await new Promise((resolve) => setImmediate(resolve))
  probe.check(problems, shown)
  return { problems, outcome }
}

/**
 * Checks `call` over `arity` hostile values; `excluded(descriptions)`: a known defect's
 * cases. A hostile callback (a function Proxy whose traps throw) that baton calls later
 * throws there, and that is an uncaught exception by design (as for Node's own
 * callbacks): those are captured and must be ours; any other is a failure.
 */
async function fuzz(t, arity, call, nodeCall, excluded) {
  await fc.assert(
    fc.asyncProperty(fc.tuple(...Array.from({ length: arity }, () => hostile)), async (descriptions) => {
      fc.pre(excluded === undefined || !excluded(descriptions))
      if (process.env.BATON_FUZZ_VERBOSE) console.log(where(descriptions))
      const { problems, outcome } = await check(call, descriptions, nodeCall)
      await cleanUp(outcome)
      for (const error of uncaught.splice(0)) {
        if (!(error instanceof Hostile)) problems.push(`an uncaught exception: ${describe(error)}`)
      }
      if (problems.length > 0) throw new Error(problems.join('\n'))
    }),
    settings(t),
  )
  t.pass()
}

// Captured for the whole file: a callback may throw after its own case has ended.
const uncaught = []
test.before(() => process.setUncaughtExceptionCaptureCallback((error) => uncaught.push(error)))
test.after('no uncaught exception but those of our own hostile callbacks', (t) => {
  process.setUncaughtExceptionCaptureCallback(null)
  t.deepEqual(uncaught.filter((error) => !(error instanceof Hostile)).map(describe), [])
})

/** Whether `value` is a thenable; a hostile value returned as it came (a Proxy) is not read. */
function isThenable(value) {
  try {
    return typeof value?.then === 'function'
  } catch {
    return false
  }
}

/**
 * A pool of one worker running HANDLERS, once that worker has started: a start is not
 * bounded by HANG_MS, as it takes up to seconds on a loaded machine (Node 20 at a load
 * of 20 on 2 cores: 0.6-1.2 s, against a round trip's 0.1 s at most), and the first
 * case would otherwise wait for it.
 */
async function startedPool(name) {
  const pool = new WorkerPool({ filename: HANDLERS, name, minThreads: 1, maxThreads: 1 })
  await pool.run('started', { name: 'echo' })
  return pool
}

/** Whatever a call made that must not outlive its case. */
async function cleanUp(outcome) {
  let made
  try {
    made = [WorkerPool, AsyncResource, EventEmitterAsyncResource].find((Class) => outcome instanceof Class)
  } catch {
    return // A hostile value handed back as it came (a Proxy): nothing of ours.
  }
  if (made === WorkerPool) await outcome.destroy()
  else if (made !== undefined) outcome.emitDestroy()
}

// ---- The exports ----------------------------------------------------------------------

test.serial('fuzz: new AsyncLocalStorage(options) and its methods', async (t) => {
  await fuzz(
    t,
    1,
    ([options]) => new AsyncLocalStorage(options),
    // baton takes an own `name` as Node 24/26 do, on every line: converted to a string, so
    // a Symbol or a null-prototype object throws the same code-less TypeError there.
    ([options]) => {
      const storage = new nodeHooks.AsyncLocalStorage(options)
      if (Object.hasOwn(options, 'name') && options.name !== undefined) void `${options.name}`
      return storage
    },
  )
  const storage = new AsyncLocalStorage()
  const nodeStorage = new nodeHooks.AsyncLocalStorage()
  await fuzz(
    t,
    3,
    ([store, fn, arg], probe) => storage.run(store, typeof fn === 'function' ? probe.callback : fn, arg),
    ([store, fn, arg]) => nodeStorage.run(store, fn, arg),
  )
  await fuzz(
    t,
    2,
    ([fn, arg], probe) => storage.exit(typeof fn === 'function' ? probe.callback : fn, arg),
    ([fn, arg]) => nodeStorage.exit(fn, arg),
  )
  // enterWith()/withScope() last for the rest of the call: inside a run() of their own.
  await fuzz(t, 1, ([store], probe) =>
    storage.run(undefined, () => {
      storage.enterWith(store)
      if (!Object.is(storage.getStore(), store)) throw new Error('enterWith() did not enter its store')
      probe.callback()
    }),
  )
  await fuzz(t, 1, ([store]) => storage.run(undefined, () => storage.withScope(store).dispose()))
  await fuzz(t, 1, ([fn], probe) => AsyncLocalStorage.bind(fn === probe.callback ? fn : fn)(), ([fn]) => nodeHooks.AsyncLocalStorage.bind(fn)())
  await fuzz(t, 2, ([fn, arg]) => AsyncLocalStorage.snapshot()(fn, arg), ([fn, arg]) => nodeHooks.AsyncLocalStorage.snapshot()(fn, arg))
})

test.serial('fuzz: AsyncResource, its methods and static bind()', async (t) => {
  await fuzz(
    t,
    2,
    ([type, options]) => new AsyncResource(type, options),
    ([type, options]) => new nodeHooks.AsyncResource(type, options).emitDestroy(),
  )
  // Each case makes its resource inside the caller's run(): callbacks run in that context.
  const inResource = (use) => {
    const resource = new AsyncResource('fuzz.Resource')
    try {
      return use(resource)
    } finally {
      resource.emitDestroy()
    }
  }
  const nodeResource = new nodeHooks.AsyncResource('fuzz.Resource')
  await fuzz(
    t,
    3,
    ([fn, thisArg, arg]) => inResource((resource) => resource.runInAsyncScope(fn, thisArg, arg)),
    ([fn, thisArg, arg]) => nodeResource.runInAsyncScope(fn, thisArg, arg),
  )
  await fuzz(
    t,
    2,
    ([fn, thisArg]) => inResource((resource) => resource.bind(fn, thisArg)()),
    ([fn, thisArg]) => nodeResource.bind(fn, thisArg)(),
  )
  await fuzz(t, 3, ([fn, type, thisArg]) => AsyncResource.bind(fn, type, thisArg)(), ([fn, type, thisArg]) => nodeHooks.AsyncResource.bind(fn, type, thisArg)())
  nodeResource.emitDestroy()
})

test.serial('fuzz: EventEmitterAsyncResource', async (t) => {
  await fuzz(
    t,
    1,
    ([options], probe) => {
      const emitter = new EventEmitterAsyncResource(options)
      emitter.on('event', probe.callback)
      emitter.emit('event')
      return emitter
    },
    ([options]) => new NodeEventEmitterAsyncResource(options).emitDestroy(),
  )
})

test.serial('fuzz: AsyncContext.Variable and AsyncContext.Snapshot', async (t) => {
  await fuzz(
    t,
    1,
    ([options]) => new AsyncContext.Variable(options).get(),
    // A Variable's own `name` is converted to a string, as AsyncLocalStorage's above: a
    // Symbol or a null-prototype object throws that TypeError.
    ([options]) => {
      const storage = new nodeHooks.AsyncLocalStorage(options)
      if (Object.hasOwn(options, 'name') && options.name !== undefined) void `${options.name}`
      return storage
    },
  )
  const variable = new AsyncContext.Variable()
  await fuzz(t, 3, ([value, fn, arg]) => variable.run(value, fn, arg))
  // Made inside the caller's run(), so that callbacks run in the context of that run.
  await fuzz(t, 2, ([fn, arg]) => new AsyncContext.Snapshot().run(fn, arg))
  await fuzz(t, 2, ([fn, arg]) => AsyncContext.Snapshot.wrap(fn)(arg))
})

test.serial('fuzz: the native tasks, both forms, with options', async (t) => {
  // A valid n above 100,000 is brought down: F(n) for n in the millions takes seconds.
  const small = (n) => (Number.isSafeInteger(n) && n > 100_000 && n <= 100_000_000 ? n % 100_000 : n)
  await fuzz(t, 3, ([n, options, callback]) => baton.fibonacci(small(n), options, callback))
  await fuzz(t, 2, ([n, callback]) => baton.fibonacci(small(n), callback))
  await fuzz(t, 1, ([callback]) => baton.performAsyncTask(callback))
  // failingTask's own failure is an outcome, not a fault: an Error of its own message
  // and no code (never a napi-rs status name).
  await fuzz(t, 1, ([callback]) => {
    const promise = baton.failingTask(callback)
    return promise?.catch((error) => {
      if (error.message !== 'I am a failing task' || error.code !== undefined) throw error
    })
  })
  await fuzz(t, 2, ([a, b]) => baton.resources(a, b))
})

test.serial('fuzz: new WorkerPool(options) with hostile options', async (t) => {
  await fuzz(
    t,
    1,
    ([options]) => new WorkerPool(options),
  )
})

test.serial('fuzz: WorkerPool run(), runTask(), close() and destroy() with hostile values', async (t) => {
  const pool = await startedPool('echo')
  try {
    await fuzz(t, 2, ([task, options]) => pool.run(task, options))
    await fuzz(t, 2, ([task, callback]) => pool.runTask(task, callback))
  } finally {
    await pool.destroy()
  }
  await fuzz(t, 1, ([options]) => {
    const closing = new WorkerPool({ minThreads: 0, maxThreads: 1 })
    return closing.close(options).finally(() => closing.destroy())
  })
})

// ---- Odd values thrown from pool handlers ---------------------------------------------

// What a worker's handler throws (built in fixtures/fuzz/handlers.js), and what the
// task must reject with: the value itself where it can be cloned, a DataCloneError
// where it cannot, the error with its class, code and own properties; anything baton
// cannot encode must still reject with an error with a code, and the worker must go on
// (ERR_BATON_WORKER_EXITED is not a clear error for a value that was thrown).
const THROWN = ['value', 'symbol', 'function', 'nullPrototype', 'errorWithCode', 'errorOwnProto', 'proxy', 'revoked', 'cyclicCause', 'deepCause', 'symbolName', 'functionMessage', 'getter:name', 'getter:message', 'getter:stack', 'getter:constructor']

const cloneable = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.bigInt(), fc.constantFrom(null, undefined, 0, '', NaN, -0), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3, noNullPrototype: true }))

/** `a` is `b`, or a clone of it (the plain objects of `cloneable`). */
function sameValue(a, b) {
  if (typeof b !== 'object' || b === null) return Object.is(a, b)
  return typeof a === 'object' && a !== null && JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b))
}

/** Why `error`, rejected for a handler that threw `kind` built from `value`, is wrong; undefined if right. */
function wrongRejection(kind, value, error) {
  switch (kind) {
    case 'value':
      return sameValue(error, value) ? undefined : `rejected with ${describe(error)}`
    case 'symbol':
    case 'function':
      return error instanceof DOMException && error.name === 'DataCloneError' ? undefined : `not a DataCloneError: ${describe(error)}`
    case 'nullPrototype':
      return sameValue(error?.message, value) ? undefined : `lost its message: ${describe(error)}`
    case 'errorOwnProto':
      // An own `__proto__` key is data: the error keeps its class and gets the key back.
      return error instanceof Error && Object.getPrototypeOf(error) === Error.prototype && error.message === new Error(value).message && Object.hasOwn(error, '__proto__') && error.polluted === undefined ? undefined : `lost its class or took its own __proto__ key as a prototype: ${describe(error)}`
    case 'errorWithCode':
      return error instanceof RangeError && error.code === 'E_FUZZ' && error.message === new RangeError(value).message && error.extra?.[0] === 1n ? undefined : `lost its class, code or properties: ${describe(error)}`
    default:
      return error instanceof Error && DOCUMENTED.test(error.code) && error.code !== 'ERR_BATON_WORKER_EXITED' ? undefined : `not a clear error: ${describe(error)}`
  }
}

test.serial('fuzz: odd values thrown or rejected by a pool handler reject their own task only', async (t) => {
  const pool = await startedPool('throwOdd')
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...THROWN), cloneable, fc.boolean(), async (kind, value, async) => {
        const token = `thrown ${++tokens}`
        // Neighbours in the same batch must not be affected.
        const [before, odd, after] = await context.run(token, () =>
          Promise.all([
            raceHang(pool.run('before', { name: 'echo' }), HANG_MS, 'a hang'),
            raceHang(
              pool.run({ kind, value, async }).then(
                () => 'resolved',
                (error) => ({ error, store: context.getStore() }),
              ),
              HANG_MS,
              'a hang',
            ),
            raceHang(pool.run('after', { name: 'echo' }), HANG_MS, 'a hang'),
          ]),
        )
        const problems = []
        if (before !== 'before' || after !== 'after') problems.push(`its neighbours gave ${before} and ${after}`)
        if (typeof odd === 'string') problems.push(odd)
        else {
          if (odd.store !== token) problems.push(`rejected in context ${odd.store}`)
          const wrong = wrongRejection(kind, value, odd.error)
          if (wrong !== undefined) problems.push(wrong)
        }
        if (problems.length > 0) throw new Error(`${kind}${async ? ', rejected' : ', thrown'}, from ${where([value])}: ${problems.join('; ')}`)
      }),
      settings(t),
    )
  } finally {
    await pool.destroy()
  }
  t.pass()
})

// ---- Polluted prototypes -------------------------------------------------------------

/** `Object.prototype[key] = value` (and Array.prototype's index 1) while `fn` runs. */
async function polluted(key, value, fn) {
  const saved = [Object.getOwnPropertyDescriptor(Object.prototype, key), Object.getOwnPropertyDescriptor(Array.prototype, 1)]
  Object.defineProperty(Object.prototype, key, { value, configurable: true, writable: true })
  Object.defineProperty(Array.prototype, 1, { value, configurable: true, writable: true })
  try {
    return await fn()
  } finally {
    if (saved[0] === undefined) delete Object.prototype[key]
    else Object.defineProperty(Object.prototype, key, saved[0])
    if (saved[1] === undefined) delete Array.prototype[1]
    else Object.defineProperty(Array.prototype, 1, saved[1])
  }
}

/** What a call gave: 'ok:<value>' or the error's code, comparable across runs. */
async function outcomeOf(call) {
  try {
    const value = await call()
    return `ok:${typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string' ? value : typeof value}`
  } catch (error) {
    return `error:${error?.code ?? describe(error)}`
  }
}

// Calls whose outcome a polluted key changes through Node itself, not through baton,
// with those keys: Node's streams read `signal` from the options literals Node itself
// passes them (a Worker's stdio streams, process.stdout), so with Object.prototype.signal
// set no Worker starts at all, and even console.log throws.
const THROUGH_NODE = {
  'new WorkerPool({})': ['signal'],
}

test.serial('fuzz: a polluted Object.prototype / Array.prototype changes no outcome', async (t) => {
  const pool = await startedPool('echo')
  const calls = {
    'new AsyncLocalStorage({})': () => new AsyncLocalStorage({}).getStore(),
    'new AsyncResource(type, {})': () => new AsyncResource('fuzz.Polluted', {}).emitDestroy() && 'destroyed',
    'new AsyncContext.Variable({})': () => new AsyncContext.Variable({}).get(),
    'fibonacci(10, {})': () => baton.fibonacci(10, {}),
    'fibonacci(10, {}, callback)': () => new Promise((resolve, reject) => baton.fibonacci(10, {}, (error, value) => (error ? reject(error) : resolve(value)))),
    'performAsyncTask()': () => baton.performAsyncTask(),
    'new WorkerPool({})': async () => {
      const made = new WorkerPool({ minThreads: 0, maxThreads: 1 })
      try {
        return await made.run({ a: 1, b: 2 })
      } finally {
        await made.destroy()
      }
    },
    // Read as own elements: the outcome is taken while the prototype is still polluted.
    'pool.run([1, , 3], {})': () => pool.run([1, , 3], {}).then((value) => JSON.stringify(Array.from({ length: value.length }, (_, i) => (Object.hasOwn(value, i) ? value[i] : 'hole')))),
  }
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(calls)), fc.constantFrom(...OPTION_KEYS), leaf, async (name, key, description) => {
        fc.pre(!THROUGH_NODE[name]?.includes(key))
        const clean = await outcomeOf(calls[name])
        const dirty = await polluted(key, materialize(description, makeProbe()), () => raceHang(outcomeOf(calls[name]), HANG_MS, 'a hang'))
        if (dirty !== clean) throw new Error(`${name} with Object.prototype.${key} and Array.prototype[1] set: ${dirty}; unpolluted: ${clean}`)
      }),
      settings(t),
    )
  } finally {
    await pool.destroy()
  }
  t.pass()
})

// ---- Found by the fuzz, fixed outside the other lanes ----------------------------------

test.serial('fibonacci reads signal and onProgress as own properties: a polluted prototype changes nothing', async (t) => {
  await polluted('signal', 5, async () => {
    t.is(await baton.fibonacci(10, {}), 55n)
  })
  await polluted('onProgress', () => t.fail('an inherited onProgress was called'), async () => {
    t.is(await baton.fibonacci(10, {}), 55n)
  })
  // Own properties still count.
  const reports = []
  t.is(await baton.fibonacci(10, { onProgress: (fraction) => reports.push(fraction) }), 55n)
  t.is(reports.at(-1), 1)
})

test.serial('AsyncContext.Variable run() and Snapshot run() refuse a non-function with ERR_INVALID_ARG_TYPE', (t) => {
  const variable = new AsyncContext.Variable()
  for (const fn of [5, undefined, {}, Symbol('fn')]) {
    t.throws(() => variable.run('value', fn), { code: 'ERR_INVALID_ARG_TYPE', instanceOf: TypeError })
    t.throws(() => new AsyncContext.Snapshot().run(fn), { code: 'ERR_INVALID_ARG_TYPE', instanceOf: TypeError })
  }
  t.is(variable.run('value', () => variable.get()), 'value')
})
