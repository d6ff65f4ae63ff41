'use strict'

// The worker side of a WorkerPool: loads the task module, attaches to the pool's
// native core, and runs what the core hands it. Kept apart from the main-thread side
// (pool.js), which starts this file with `new Worker`.

const { readFileSync } = require('node:fs')
const { basename, dirname, join } = require('node:path')
const { fileURLToPath } = require('node:url')
const { isModuleNamespaceObject } = require('node:util').types
const { getEnvironmentData, parentPort } = require('node:worker_threads')
const binding = require('../shared/binding')
const { TASK_ABORTED, taskNotFound, typeScriptNotLoadable, workerInit } = require('../shared/errors')
const { ownProperty } = require('../shared/validators')
const { CONFIG, EXITED_LOADING, MESSAGE_STRIDE, MessageKind, READY, UNSETTLED_LOADING } = require('./protocol')
const { connect } = require('./side-channel')
const { seesSignal } = require('./signal-use')
const transport = require('./transport')

const { pool, worker, filename, name: defaultName, wakeCell } = getEnvironmentData(CONFIG)
/** Running tasks' AbortControllers by task id; undefined for a handler that cannot see its signal (signal-use.js). */
const controllers = new Map()
/**
 * Task modules by file URL, each loaded once: `{ url, namespace, exports, handlers }`
 * once loaded, a promise of it while loading (rejected for good if it failed).
 */
const modules = new Map()
// What the worker's console writes to. Captured once: a task's check costs two reads.
const { stdout, stderr } = process
let core
/**
 * lib/context/carried.js, once anything in this thread has loaded it. Until then no baton
 * storage exists here, and a task that carries no stores has no context to leave:
 * loading it (and the context engine behind it) costs each worker memory.
 */
let carried
const CARRIED = require.resolve('../context/carried')
/** This worker's end of its MessageChannel to the main thread (side-channel.js). */
let channel

/** A task's handler: a function, or a promise of one while its module or export is still loading. */
function handlerFor(url = filename, name = defaultName) {
  const module = modules.get(url)
  if (module === undefined) {
    const loading = load(url).catch((cause) => {
      throw workerInit(url, cause)
    })
    modules.set(url, loading)
    return loading.then(() => handlerFor(url, name))
  }
  if (module instanceof Promise) return module.then(() => handlerFor(url, name))
  return module.handlers.get(name) ?? lookUp(module, name)
}

/** Finds `name` in a loaded module, once: a function, or the promise of one that the module exported. */
function lookUp(module, name) {
  const value = exported(module, name)
  let handler = value
  if (typeof value?.then === 'function') {
    // Not Promise.resolve(value), which reads a promise's `constructor`.
    handler = new Promise((resolve) => resolve(value)).then(
      (resolved) => {
        if (typeof resolved !== 'function') throw notFound(module.url, name)
        module.handlers.set(name, resolved)
        return resolved
      },
      (cause) => {
        throw workerInit(module.url, cause)
      },
    )
  } else if (typeof value !== 'function') {
    throw notFound(module.url, name)
  }
  module.handlers.set(name, handler)
  return handler
}

/**
 * The export `name` (undefined or 'default': the default export) of a loaded module, read
 * as own properties only. `exports` is the awaited default export: a CommonJS module's
 * `module.exports`, whose properties Node's static analysis of the module may not have
 * seen (`module.exports = a; a.b = b`, or an object a promise resolved to).
 */
function exported({ namespace, exports }, name) {
  if (name === undefined || name === 'default') {
    if (typeof exports === 'function') return exports
    // TypeScript's and Babel's CommonJS output: `exports.default = handler`.
    return isObject(exports) ? ownProperty(exports, 'default') : undefined
  }
  if (Object.hasOwn(namespace, name)) return namespace[name]
  return isObject(exports) || typeof exports === 'function' ? ownProperty(exports, name) : undefined
}

function notFound(url, name) {
  const what = name === undefined ? 'a default function' : `a function named '${name}'`
  return taskNotFound(url, `does not export ${what}`)
}

function isObject(value) {
  return typeof value === 'object' && value !== null
}

/** Runs one task; returns its encoded outcome if it finished synchronously. */
function start(id, payload) {
  let controller, result
  // Nothing may escape: this runs inside the core's call, where a throw would lose the task.
  try {
    const [task, name, url, stores] = transport.decodeTask(payload, channel)
    const handler = handlerFor(url, name)
    if (typeof handler === 'function') {
      if (seesSignal(handler)) controller = new AbortController()
      result = call(handler, task, controller?.signal, stores)
    } else {
      // A handler still loading runs once it is there (its module may define the storages
      // of the stores), with a signal that an abort meanwhile has fired already.
      controller = new AbortController()
      const { signal } = controller
      result = handler.then((loaded) => call(loaded, task, signal, stores))
    }
    if (typeof result?.then !== 'function') return finished(id, transport.encodeValue(result, channel, id))
  } catch (error) {
    return finished(id, transport.encodeThrown(error))
  }
  controllers.set(id, controller)
  // Not Promise.resolve(result), which reads a promise's `constructor` and may throw here.
  new Promise((resolve) => resolve(result)).then(
    (value) => finishLater(id, transport.encodeValue(value, channel, id)),
    (error) => finishLater(id, transport.encodeThrown(error)),
  )
}

/** Calls a task's handler in the task's context: the stores it carried, and none other. */
function call(handler, task, signal, stores) {
  if (carried === undefined && (stores !== undefined || require.cache[CARRIED] !== undefined)) carried = require(CARRIED)
  carried?.enterTask(stores)
  return handler(task, signal)
}

/**
 * Completions held back for console output, and the chain that completes them in the
 * order they were encoded: a moved result's message is posted on the side channel as it
 * is encoded, and the main thread takes those messages in that order.
 */
let held = 0
let holding = Promise.resolve()

/** Whether a completion must wait: for console output, or behind one that waits for it. */
const mustHold = () => held > 0 || printing()

/** `outcome` to complete now, or undefined if the task's console output must reach the main thread first. */
function finished(id, outcome) {
  if (!mustHold()) return outcome
  finishLater(id, outcome)
}

function finishLater(id, outcome) {
  controllers.delete(id)
  if (!mustHold()) return onMessages(core.complete(id, outcome))
  held++
  const output = printed()
  holding = holding
    .then(() => output)
    .then(() => {
      held--
      onMessages(core.complete(id, outcome))
    })
}

/**
 * Whether the worker's console output is still on its way to the main thread: a write to
 * a worker's stdio is done (its callback called) once the main thread has taken it into
 * its own stream. A result that overtook it would let the main thread exit without it.
 */
function printing() {
  return unsent(stdout) || unsent(stderr)
}

const unsent = (stream) => stream.writableLength > 0 && stream.writable

/** Resolves once everything written to the worker's stdout and stderr so far is done. */
function printed() {
  return Promise.all([stdout, stderr].map((stream) => unsent(stream) && new Promise((resolve) => stream.write('', resolve))))
}

/**
 * Runs what the core hands over: batches, each one ArrayBuffer of a count, then `kind,
 * taskId, payloadLength` per message as f64s, then the payloads end to end (each task
 * reads its own in place, through a Buffer over it). Completing a task returns the next
 * ones, so a busy worker runs without wake-ups; a loop, not recursion, so that a long
 * queue of synchronous tasks cannot overflow the stack. Then, with nothing left to do,
 * the worker parks (with `atomics: 'sync'`).
 */
function onMessages(batch) {
  let later
  while (batch !== undefined) {
    const numbers = new Float64Array(batch)
    const last = numbers[0] * MESSAGE_STRIDE
    let end = (last + 1) * Float64Array.BYTES_PER_ELEMENT
    for (let i = 1; i <= last; i += MESSAGE_STRIDE) {
      const id = numbers[i + 1]
      const from = end
      end += numbers[i + 2]
      if (numbers[i] !== MessageKind.Run) {
        // The reason a handler sees is what Node's own AbortController gives, with piscina's message.
        controllers.get(id)?.abort(new DOMException(TASK_ABORTED, 'AbortError'))
        continue
      }
      const outcome = start(id, Buffer.from(batch, from, end - from))
      if (outcome === undefined) continue
      const more = core.complete(id, outcome)
      if (more !== undefined) (later ??= []).push(more)
    }
    batch = later?.shift()
  }
  schedulePark()
}

let parkScheduled = false

/**
 * With `atomics: 'sync'`, parks the worker once the current callback, its microtasks
 * and whatever else its loop has ready have run: work a finished task left queued is
 * not stalled by the park, only work that comes later (a timer) is, until the next task.
 */
function schedulePark() {
  // A task in flight, or a completion held back, ends in onMessages: that schedules it then.
  if (wakeCell === undefined || parkScheduled || controllers.size > 0 || held > 0) return
  parkScheduled = true
  setImmediate(park)
}

/**
 * Waits in Atomics.wait for the main thread's notification, when nothing is in flight:
 * a running task, a completion held back for console output, or output still on its way
 * (the main thread takes it through this loop) keep the loop running, and park again
 * when they are done. So does anything else that keeps the loop alive (a timer a task
 * left, a socket, a file read): the worker stays in its loop, woken through it, and parks
 * after a later batch if the loop has nothing left then. The count is read before the
 * core marks the worker parked: a message that comes after the mark bumps it before the
 * notification, so the wait returns at once if it comes before the wait.
 */
function park() {
  parkScheduled = false
  if (controllers.size > 0 || held > 0) return
  if (printing()) return void printed().then(schedulePark)
  // Empty in an idle worker on every line: the pool's own ports and wake-up are not listed.
  if (process.getActiveResourcesInfo().length > 0) return
  const seen = Atomics.load(wakeCell, 0)
  let batch = core.park()
  if (batch === undefined) {
    Atomics.wait(wakeCell, 0, seen)
    batch = core.take()
  }
  onMessages(batch)
}

/** Loads the module at `url` once, and awaits its default export: a promise there is the module's initialisation. */
async function load(url) {
  const namespace = await (isCommonJS(url) ? required(url) : imported(url))
  // CommonJS modules arrive as `default`; ESM as named exports and maybe `default`.
  const exports = await namespace.default
  const module = { url, namespace, exports, handlers: new Map() }
  modules.set(url, module)
  return module
}

/** Any other module by import(): ESM, TypeScript, whatever a loader in execArgv loads. */
async function imported(url) {
  try {
    return await import(url)
  } catch (error) {
    // A Node that strips no types (20; 22.18+ with --no-experimental-strip-types): say what works.
    if (error?.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(url)) throw typeScriptNotLoadable(error)
    throw error
  }
}

/**
 * A CommonJS module by require(), as import() would give it (`module.exports` as the
 * default export): import() starts Node's ESM loader in the worker, which costs each
 * worker memory that require() does not. A `.js` file Node finds to be ESM by its syntax
 * arrives as its namespace (require(esm)); where Node's require() cannot load it
 * (ERR_REQUIRE_ESM before Node 20.19 and 22.12, top-level await on any line), import()
 * does, and evaluates it once: require() left nothing half-loaded behind. A CommonJS
 * module whose own require() of such a module failed is not loaded again.
 */
function required(url) {
  const path = fileURLToPath(url)
  let exports
  try {
    exports = require(path)
  } catch (error) {
    // Refused for a dependency, the module's own code has run, and would again by import():
    // that error is the module's.
    if ((error?.code === 'ERR_REQUIRE_ESM' || error?.code === 'ERR_REQUIRE_ASYNC_MODULE') && !isCommonJSSyntax(path)) return imported(url)
    throw error
  }
  return isModuleNamespaceObject(exports) ? exports : { __proto__: null, default: exports }
}

/**
 * Whether the source at `path` is CommonJS, as Node's own detection tells an ambiguous
 * `.js` apart: it compiles as a CommonJS module's function body (ES module syntax such as
 * import, export, import.meta or a top-level await does not). Read only after require()
 * refused a module, to tell whether it refused the module itself or a dependency.
 */
function isCommonJSSyntax(path) {
  if (path.endsWith('.cjs')) return true
  try {
    require('node:vm').compileFunction(readFileSync(path, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'])
    return true
  } catch {
    return false
  }
}

/** Whether Node loads the file at `url` as CommonJS: a `.cjs`, or a `.js` whose package scope is not "type": "module". */
function isCommonJS(url) {
  if (url.endsWith('.cjs')) return true
  return url.endsWith('.js') && packageType(dirname(fileURLToPath(url))) === 'commonjs'
}

/**
 * The "type" of the nearest package.json, as Node looks it up (up to a node_modules
 * folder): 'commonjs' when it names none or there is none; undefined for one that is
 * not JSON, whose error import() then reports as Node's.
 */
function packageType(folder) {
  for (;;) {
    let text
    try {
      text = readFileSync(join(folder, 'package.json'), 'utf8')
    } catch {}
    if (text !== undefined) {
      let type
      try {
        type = ownProperty(JSON.parse(text), 'type')
      } catch {
        return undefined
      }
      return type === 'module' ? 'module' : 'commonjs'
    }
    const parent = dirname(folder)
    if (basename(folder) === 'node_modules' || parent === folder) return 'commonjs'
    folder = parent
  }
}

/** Whether a loaded module exports anything a handler may be: a function, or a promise of one. */
function exportsHandler({ namespace, exports }) {
  const candidate = (value) => typeof value === 'function' || typeof value?.then === 'function'
  if (candidate(exports)) return true
  if ((isObject(exports) || typeof exports === 'function') && Object.values(exports).some(candidate)) return true
  return Object.entries(namespace).some(([key, value]) => key !== 'default' && candidate(value))
}

/**
 * Loads the pool's own module (a file URL: options.js resolved the path and checked the
 * file exists), with its handler when that is a promise: what fails here is the pool's
 * init error.
 */
async function init() {
  channel = await connect(worker, parentPort)
  // A pool with no module of its own: its runs name theirs.
  if (filename === null) return
  const module = await load(filename)
  if (!exportsHandler(module)) throw taskNotFound(filename, 'exports no function')
  const value = exported(module, defaultName)
  if (typeof value?.then !== 'function') return
  const handler = await value
  // Any other value fails the tasks that name it, as a missing export does.
  if (typeof handler === 'function') module.handlers.set(defaultName, handler)
}

// Told apart from the pool or the user terminating the thread, which runs no 'exit'
// listener: the pool must not start worker after worker for a module that exits.
// The loop running dry with the import pending is a top-level await that never settles:
// the thread then ends with Node's exit code for that, 13, as a worker started on the
// module itself would.
let drained = false
const drainedLoading = () => {
  drained = true
  process.exitCode = 13
}
const exitedLoading = () => parentPort.postMessage(drained ? UNSETTLED_LOADING : EXITED_LOADING)
process.on('beforeExit', drainedLoading)
process.once('exit', exitedLoading)

init().then(
  () => {
    process.off('exit', exitedLoading)
    process.off('beforeExit', drainedLoading)
    // The module's own 'beforeExit' listener gave the loop more work, and it settled.
    if (drained) process.exitCode = undefined
    core = new binding.PoolWorker(pool, worker, onMessages)
    parentPort.postMessage(READY)
    schedulePark()
  },
  // Uncaught, it reaches the pool as the worker's 'error' before it attached: an init error.
  (error) => process.nextTick(() => {
    throw error
  }),
)
