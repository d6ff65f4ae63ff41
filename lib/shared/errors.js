'use strict'

// Errors with Node's codes, messages and shape (`err.code`, and the code in the
// first line of the stack: `TypeError [ERR_INVALID_ARG_TYPE]: ...`).

const { inspect } = require('node:util')

function nodeError(Base, code, message, options = undefined) {
  const error = new Base(message, options)
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true })
  // V8 formats the stack's first line lazily from `name`: show the code there too,
  // then let `name` fall back to the prototype's.
  error.name = `${Base.name} [${code}]`
  void error.stack
  delete error.name
  return error
}

function describeReceived(value) {
  if (value == null) return ` Received ${value}`
  if (typeof value === 'function') return ` Received function ${value.name}`
  if (typeof value === 'object') {
    if (value.constructor?.name) return ` Received an instance of ${value.constructor.name}`
    return ` Received ${inspect(value, { depth: -1 })}`
  }
  let shown = inspect(value, { colors: false })
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`
  return ` Received type ${typeof value} (${shown})`
}

/** `ERR_INVALID_ARG_TYPE`; `expected` reads like "of type function" or "an instance of AbortSignal". */
function invalidArgType(name, expected, value) {
  const kind = name.includes('.') ? 'property' : 'argument'
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${kind} must be ${expected}.${describeReceived(value)}`)
}

function outOfRange(name, range, value) {
  const shown = Number.isInteger(value) && Math.abs(value) > 2 ** 32 ? withSeparators(value) : inspect(value)
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`)
}

function withSeparators(value) {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, '_')
}

/**
 * The codes baton's errors carry, besides Node's argument codes above: the one catalog
 * on the JS side (crates/baton-napi/src/error.rs is the Rust one, for the errors Rust makes).
 */
const codes = Object.freeze({
  ABORT: 'ABORT_ERR',
  CLOSE_TIMEOUT: 'ERR_BATON_CLOSE_TIMEOUT',
  ERROR_NOT_CLONEABLE: 'ERR_BATON_ERROR_NOT_CLONEABLE',
  FALSY_VALUE_REJECTION: 'ERR_FALSY_VALUE_REJECTION',
  INVALID_ARG_VALUE: 'ERR_INVALID_ARG_VALUE',
  MESSAGE_LOST: 'ERR_BATON_MESSAGE_LOST',
  MISSING_OPTION: 'ERR_MISSING_OPTION',
  MODULE_NOT_FOUND: 'ERR_MODULE_NOT_FOUND',
  NO_BINARY: 'ERR_BATON_NO_BINARY',
  PANIC: 'ERR_BATON_PANIC',
  POOL_CLOSED: 'ERR_BATON_POOL_CLOSED',
  QUEUE_FULL: 'ERR_BATON_QUEUE_FULL',
  STORE_NOT_CLONEABLE: 'ERR_BATON_STORE_NOT_CLONEABLE',
  TASK_NOT_FOUND: 'ERR_BATON_TASK_NOT_FOUND',
  UNKNOWN_FILE_EXTENSION: 'ERR_UNKNOWN_FILE_EXTENSION',
  WORKER_EXITED: 'ERR_BATON_WORKER_EXITED',
  WORKER_INIT: 'ERR_BATON_WORKER_INIT',
  WORKER_MODULE_UNSETTLED: 'ERR_BATON_WORKER_MODULE_UNSETTLED',
})

/** `ERR_INVALID_ARG_VALUE`, for a value of the right type that is not allowed. */
function invalidArgValue(message) {
  return nodeError(TypeError, codes.INVALID_ARG_VALUE, message)
}

/** What Node's own APIs reject with on abort (`fs`, `timers/promises`, `stream`). */
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options)
    this.code = codes.ABORT
    this.name = 'AbortError'
  }
}

/**
 * The one abort error baton gives, for background tasks and pool tasks alike (Rust's
 * `ABORT_ERR` is turned into it too): `cause` is the signal's reason. A pool task's
 * message is piscina's, so that code switching from piscina sees the same text.
 */
function abortError(reason, message = undefined) {
  return new AbortError(message, { cause: reason })
}

const TASK_ABORTED = 'The task has been aborted'

// The WorkerPool's own failures.

function poolClosed() {
  return nodeError(Error, codes.POOL_CLOSED, 'The WorkerPool is closed')
}

/** Node's `ERR_MISSING_OPTION` ("%s is required"), for a run with no module to run it. */
function filenameRequired() {
  return nodeError(TypeError, codes.MISSING_OPTION, 'options.filename is required: the WorkerPool has none, and the run named none')
}

function queueFull(maxQueue) {
  return nodeError(Error, codes.QUEUE_FULL, `The WorkerPool's queue is full (maxQueue: ${maxQueue})`)
}

function closeTimedOut(closeTimeout) {
  const what = `close() did not finish within closeTimeout (${closeTimeout} ms): the tasks left were rejected and the workers ended`
  return nodeError(Error, codes.CLOSE_TIMEOUT, what)
}

/** `cause`: the worker's error, if it crashed rather than exited. */
function workerExited(code, cause) {
  const why = cause === undefined ? `exited with code ${code}` : `crashed: ${cause.message ?? cause}`
  return nodeError(Error, codes.WORKER_EXITED, `The worker running this task ${why}`, cause === undefined ? undefined : { cause })
}

/** `filename`: null for a pool with no module of its own. */
function workerInit(filename, cause) {
  const what = filename === null ? 'start' : `load ${filename}`
  return nodeError(Error, codes.WORKER_INIT, `A worker could not ${what}: ${cause.message}`, { cause })
}

function workerModuleUnsettled() {
  const why = `the module's evaluation never settled: its top-level await is still pending with nothing left to run (exit code 13)`
  return nodeError(Error, codes.WORKER_MODULE_UNSETTLED, why)
}

function workerModuleNotFound(path) {
  return nodeError(Error, codes.MODULE_NOT_FOUND, `Cannot find worker module '${path}'`)
}

/** `what`: "a default function", "a function named 'x'", or "no function" (then `exports` is the verb). */
function taskNotFound(filename, what) {
  return nodeError(TypeError, codes.TASK_NOT_FOUND, `The worker module ${filename} ${what}`)
}

/** Node's error for a TypeScript worker module it cannot load, with the ways that work. */
function typeScriptNotLoadable(cause) {
  const how = `Node ${process.version} strips no types here (22.18 and later do by default); load it with execArgv: ['--import', 'tsx'], or compile it to JavaScript`
  return nodeError(TypeError, codes.UNKNOWN_FILE_EXTENSION, `${cause.message}. ${how}`, { cause })
}

/**
 * A task that threw `null`, `undefined` or another falsy value must not look like a
 * success to `callback(err, result)`: wrapped as Node's util.callbackify does.
 */
function falsyThrown(reason) {
  const error = nodeError(Error, codes.FALSY_VALUE_REJECTION, 'The task failed with a falsy value')
  error.reason = reason
  return error
}

/** `where`: " into a worker" for a pool task, "" for exportContext(). */
function storeNotCloneable(name, where, cause) {
  return nodeError(TypeError, codes.STORE_NOT_CLONEABLE, `The store of the storage '${name}' cannot be cloned${where}: ${cause.message}`, { cause })
}

/** A payload the core's marker names is not on its MessagePort: a bug in baton, reported as the task's failure, not a hang. */
function messageLost() {
  return nodeError(Error, codes.MESSAGE_LOST, "The message carrying this task's payload is missing from its worker's channel")
}

function errorNotCloneable(why) {
  return nodeError(TypeError, codes.ERROR_NOT_CLONEABLE, `The task threw a value that cannot be sent from the worker: ${why}`)
}

module.exports = {
  AbortError,
  TASK_ABORTED,
  abortError,
  closeTimedOut,
  codes,
  errorNotCloneable,
  falsyThrown,
  filenameRequired,
  invalidArgType,
  invalidArgValue,
  messageLost,
  nodeError,
  outOfRange,
  poolClosed,
  queueFull,
  storeNotCloneable,
  taskNotFound,
  typeScriptNotLoadable,
  workerExited,
  workerInit,
  workerModuleNotFound,
  workerModuleUnsettled,
}
