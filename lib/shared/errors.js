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
  NO_BINARY: 'ERR_BATON_NO_BINARY',
  PANIC: 'ERR_BATON_PANIC',
  POOL_CLOSED: 'ERR_BATON_POOL_CLOSED',
  QUEUE_FULL: 'ERR_BATON_QUEUE_FULL',
  STORE_NOT_CLONEABLE: 'ERR_BATON_STORE_NOT_CLONEABLE',
  TASK_NOT_FOUND: 'ERR_BATON_TASK_NOT_FOUND',
  WORKER_EXITED: 'ERR_BATON_WORKER_EXITED',
  WORKER_INIT: 'ERR_BATON_WORKER_INIT',
})

/** What Node's own APIs reject with on abort (`fs`, `timers/promises`, `stream`). */
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options)
    this.code = codes.ABORT
    this.name = 'AbortError'
  }
}

module.exports = { AbortError, codes, invalidArgType, nodeError, outOfRange }
