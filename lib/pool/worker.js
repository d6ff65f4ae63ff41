'use strict'

// The worker side of a WorkerPool: loads the task module, attaches to the pool's
// native core, and runs what the core hands it. Kept apart from the main-thread side
// (pool.js), which starts this file with `new Worker`.

const { getEnvironmentData, parentPort } = require('node:worker_threads')
const binding = require('../shared/binding')
const carried = require('../context/carried')
const { TASK_ABORTED, taskNotFound } = require('../shared/errors')
const { ownProperty } = require('../shared/validators')
const { CONFIG, EXITED_LOADING, MESSAGE_STRIDE, MessageKind, READY, UNSETTLED_LOADING } = require('./protocol')
const { connect } = require('./side-channel')
const transport = require('./transport')

const { pool, worker, filename, name: defaultName } = getEnvironmentData(CONFIG)
/** Running tasks' AbortControllers, by task id. */
const controllers = new Map()
let handlers
let core
/** This worker's end of its MessageChannel to the main thread (side-channel.js). */
let channel

function handlerFor(name = defaultName) {
  const handler = name === undefined ? handlers.default : Object.hasOwn(handlers.named, name) ? handlers.named[name] : undefined
  if (typeof handler === 'function') return handler
  const what = name === undefined ? 'a default function' : `a function named '${name}'`
  throw taskNotFound(filename, `does not export ${what}`)
}

/** Runs one task; returns its encoded outcome if it finished synchronously. */
function start(id, payload) {
  const controller = new AbortController()
  let result
  // Nothing may escape: this runs inside the core's call, where a throw would lose the task.
  try {
    const [task, name, stores] = transport.decodeTask(payload, channel)
    const handler = handlerFor(name)
    carried.enterTask(stores)
    result = handler(task, controller.signal)
    if (typeof result?.then !== 'function') return transport.encodeValue(result, channel, id)
  } catch (error) {
    return transport.encodeThrown(error)
  }
  controllers.set(id, controller)
  // Not Promise.resolve(result), which reads a promise's `constructor` and may throw here.
  new Promise((resolve) => resolve(result)).then(
    (value) => finishLater(id, transport.encodeValue(value, channel, id)),
    (error) => finishLater(id, transport.encodeThrown(error)),
  )
}

function finishLater(id, outcome) {
  controllers.delete(id)
  onMessages(core.complete(id, outcome))
}

/**
 * Runs what the core hands over (`kind, taskId, payload` triples). Completing a task
 * returns the next ones, so a busy worker runs without wake-ups; a loop, not
 * recursion, so that a long queue of synchronous tasks cannot overflow the stack.
 */
function onMessages(batch) {
  while (batch !== undefined) {
    let next
    for (let i = 0; i < batch.length; i += MESSAGE_STRIDE) {
      const id = batch[i + 1]
      if (batch[i] !== MessageKind.Run) {
        // The reason a handler sees is what Node's own AbortController gives, with piscina's message.
        controllers.get(id)?.abort(new DOMException(TASK_ABORTED, 'AbortError'))
        continue
      }
      const outcome = start(id, batch[i + 2])
      if (outcome === undefined) continue
      const more = core.complete(id, outcome)
      if (more !== undefined) next = next === undefined ? more : next.concat(more)
    }
    batch = next
  }
}

async function load() {
  channel = await connect(worker, parentPort)
  // A file URL: options.js resolved the path and checked the file exists.
  const namespace = await import(filename)
  // CommonJS modules arrive as `default`; ESM as named exports and maybe `default`.
  const exports = namespace.default
  const named = { ...(typeof exports === 'object' && exports !== null ? exports : {}), ...namespace }
  const inner = typeof exports === 'object' && exports !== null ? ownProperty(exports, 'default') : undefined
  const fallback = typeof exports === 'function' ? exports : typeof inner === 'function' ? inner : undefined
  const hasFunction = fallback !== undefined || Object.values(named).some((v) => typeof v === 'function')
  if (!hasFunction) {
    throw taskNotFound(filename, 'exports no function')
  }
  handlers = { default: fallback, named }
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

load().then(
  () => {
    process.off('exit', exitedLoading)
    process.off('beforeExit', drainedLoading)
    // The module's own 'beforeExit' listener gave the loop more work, and it settled.
    if (drained) process.exitCode = undefined
    core = new binding.PoolWorker(pool, worker, onMessages)
    parentPort.postMessage(READY)
  },
  // Uncaught, it reaches the pool as the worker's 'error' before it attached: an init error.
  (error) => process.nextTick(() => {
    throw error
  }),
)
