'use strict'

// One submitted WorkerPool task, as piscina's TaskInfo: what run()/runTask() were
// given, and the AsyncResource that settles it in the submitter's context.

const { falsyThrown } = require('../shared/errors')
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
   * @param {AbortSignal | undefined} signal
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
    /** The signal's listener, once the pool has taken the task. */
    this.onAbort = undefined
  }

  /** The pool has encoded the task: it need not keep the value alive until it settles. */
  submitted() {
    this.task = this.transferList = undefined
  }

  /** `ok` apart from the result: a task may throw `null` or `undefined`, and that is a failure. */
  settle(ok, result) {
    if (this.onAbort !== undefined) this.signal.removeEventListener('abort', this.onAbort)
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

module.exports = { PoolTask, rethrow }
