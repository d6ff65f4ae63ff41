'use strict'

// The JS half of every background task: the callback or Promise form, and
// `AbortSignal` support. The native half captures the caller's async context and
// settles the call inside it (crates/baton-napi/src/schedule.rs).

const binding = require('../shared/binding')
const { abortError, codes } = require('../shared/errors')
const { ownProperty, validateAbortSignal, validateFunction } = require('../shared/validators')

/**
 * Runs `start(...args, abortFlag, onProgress, callback)`, a native task function.
 * Returns a Promise when `callback` is undefined; otherwise returns nothing and
 * calls `callback(err, value)` exactly once.
 */
function schedule(start, args, options, callback) {
  const signal = own(options, 'signal')
  const onProgress = own(options, 'onProgress')
  if (onProgress !== undefined) validateFunction(onProgress, 'options.onProgress')
  if (callback !== undefined) validateFunction(callback, 'callback')
  if (signal === undefined) {
    if (callback === undefined) return call(start, args, undefined, onProgress)
    call(start, args, undefined, onProgress, callback)
    return
  }
  validateAbortSignal(signal, 'options.signal')
  if (signal.aborted) {
    const error = abortError(signal.reason)
    if (callback === undefined) return Promise.reject(error)
    // nextTick keeps the caller's context, as the native path does.
    process.nextTick(callback, error)
    return
  }
  const flag = new binding.AbortFlag()
  // Raised now, so that the abort wins over a result not yet delivered; settled on the
  // next tick, as Node's own APIs never call back from inside abort().
  const onAbort = () => {
    flag.raise()
    process.nextTick(settleAborted, flag)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  const settled = (error) => {
    // A fired `once` listener is gone already; finding it among many others is not free.
    if (!signal.aborted) signal.removeEventListener('abort', onAbort)
    return error?.code === codes.ABORT ? abortError(signal.reason) : error
  }
  if (callback === undefined) {
    return call(start, args, flag, onProgress).then(
      (value) => {
        settled()
        return value
      },
      (error) => {
        throw settled(error)
      },
    )
  }
  call(start, args, flag, onProgress, (error, value) => {
    if (error) callback(settled(error))
    else callback(settled(), value)
  })
}

/**
 * `start(...args, flag, onProgress, callback)`. A task without arguments of its own is
 * called without the spread, which copies the arguments into a new array on every call.
 */
function call(start, args, flag, onProgress, callback) {
  return args.length === 0 ? start(flag, onProgress, callback) : start(...args, flag, onProgress, callback)
}

/** An option read as an own property only: a polluted Object.prototype changes nothing. */
function own(options, key) {
  return options === undefined ? undefined : ownProperty(options, key)
}

function settleAborted(flag) {
  flag.settle()
}

module.exports = { schedule }
