'use strict'

// One submitted WorkerPool task, as piscina's TaskInfo: what run()/runTask() were
// given, and the AsyncResource that settles it in the submitter's context.

const { EventEmitter } = require('node:events')
const { falsyThrown, invalidArgType } = require('../shared/errors')
const { AsyncResource } = require('../context/resource')

/**
 * Made by run() or runTask() in the submitter's context; listed in baton's registry
 * until it settles. The pool keeps it by task id while it is queued or running.
 */
class PoolTask extends AsyncResource {
  /**
   * @param {number} triggerAsyncId the pool's async id
   * @param {unknown} task the value handed to the worker's handler
   * @param {string | undefined} name the handler's export name
   * @param {string | undefined} filename the handler's module as a file URL; undefined for the pool's own
   * @param {ArrayBuffer[] | undefined} transferList checked buffers to move with the task
   * @param {AbortSignal | EventTarget | EventEmitter | undefined} signal checked by validateSignal
   * @param {((err: unknown, result?: unknown) => void) | undefined} callback runTask()'s; undefined for run()'s Promise
   * @param {((value: unknown) => void) | undefined} resolve
   * @param {((error: unknown) => void) | undefined} reject
   */
  constructor(triggerAsyncId, task, name, filename, transferList, signal, callback, resolve, reject) {
    super('baton.WorkerPoolTask', { triggerAsyncId, requireManualDestroy: true })
    this.task = task
    this.name = name
    this.filename = filename
    this.transferList = transferList
    this.signal = signal
    this.callback = callback
    this.resolve = resolve
    this.reject = reject
    /** Removes the signal's listener, which `listen` added once the pool took the task. */
    this.unlisten = undefined
  }

  /**
   * Only an AbortSignal's own getters are read: an EventEmitter (as in piscina) or a bare
   * EventTarget aborts by its 'abort' event alone, and an `aborted` planted on
   * Object.prototype cannot abort it.
   */
  get aborted() {
    return this.signal instanceof AbortSignal && this.signal.aborted
  }

  get abortReason() {
    return this.signal instanceof AbortSignal ? this.signal.reason : undefined
  }

  /** Calls `onAbort` when the signal fires, once, until the task settles. */
  listen(onAbort) {
    const { signal } = this
    if (signal instanceof EventEmitter) {
      signal.once('abort', onAbort)
      this.unlisten = () => signal.removeListener('abort', onAbort)
    } else {
      signal.addEventListener('abort', onAbort, { once: true })
      this.unlisten = () => signal.removeEventListener('abort', onAbort)
    }
  }

  /** The pool has encoded the task: it need not keep the value alive until it settles. */
  submitted() {
    this.task = this.transferList = undefined
  }

  /** `ok` apart from the result: a task may throw `null` or `undefined`, and that is a failure. */
  settle(ok, result) {
    this.unlisten?.()
    if (this.callback === undefined) {
      if (ok) this.resolve(result)
      else this.reject(result)
    } else {
      this.runInAsyncScope(invokeCallback, null, this.callback, ok, result)
    }
    this.emitDestroy()
  }

  /** A task the pool did not take fails like one it did: never synchronously to a callback. */
  refuse(error) {
    if (this.callback === undefined) this.reject(error)
    else process.nextTick(this.callback, error)
    this.emitDestroy()
  }
}

/**
 * A throwing callback becomes an uncaught exception raised in the submitter's context,
 * as for Node's own callbacks, without keeping the rest of the batch from settling.
 */
function invokeCallback(callback, ok, result) {
  try {
    if (ok) callback(null, result)
    else callback(result || falsyThrown(result))
  } catch (thrown) {
    process.nextTick(rethrow, thrown)
  }
}

function rethrow(error) {
  throw error
}

/**
 * A run's `signal`, as piscina takes it: an AbortSignal (or another EventTarget of
 * 'abort'), or an EventEmitter of 'abort'. Told apart by class, not by the methods an
 * object happens to have: a polluted Object.prototype must not make `{}` a signal.
 */
function validateSignal(signal, name) {
  if (signal instanceof EventTarget || signal instanceof EventEmitter) return
  throw invalidArgType(name, 'an instance of AbortSignal, EventTarget or EventEmitter', signal)
}

module.exports = { PoolTask, rethrow, validateSignal }
