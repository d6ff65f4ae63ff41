'use strict'

// The main thread's handle on one pool worker, as piscina's WorkerInfo: the Worker,
// what it has told the pool, and whether the pool itself ended it.

const { workerModuleUnsettled } = require('../shared/errors')
const { EXITED_LOADING, READY, UNSETTLED_LOADING } = require('./protocol')

/**
 * Why the pool terminates a worker: `'abort'` for an aborted task's handler that kept
 * running past `abortGracePeriod` (the worker's other started tasks go back to the
 * queue), `'idle'` beyond minThreads, `'shutdown'` on close() or destroy().
 * @typedef {'abort' | 'idle' | 'shutdown'} TerminateReason
 */

class WorkerInfo {
  /**
   * @param {number} id the native core's id of the worker
   * @param {import('node:worker_threads').Worker} worker just made, not yet unref'd
   * @param {(message: unknown) => void} onMessage gets what the worker's own code posts (`parentPort.postMessage`)
   */
  constructor(id, worker, onMessage) {
    this.id = id
    this.worker = worker
    /** The task module loaded and the worker attached to the core. */
    this.ready = false
    /** What ended or is ending the thread, if it failed: reported to its tasks. */
    this.error = undefined
    /** The pool terminated it: its exit is not a crash. */
    this.ended = false
    /** Terminated for an abort: the core re-queues its other started tasks. */
    this.forAbort = false
    worker.on('message', (message) => {
      // baton's own messages come only while the worker loads, READY last: after it,
      // everything is the task module's.
      if (this.ready) {
        onMessage(message)
      } else if (message === READY) {
        this.ready = true
      } else if (message === EXITED_LOADING) {
        this.error ??= new Error('the worker called process.exit() while loading')
      } else if (message === UNSETTLED_LOADING) {
        this.error ??= workerModuleUnsettled()
      } else {
        onMessage(message)
      }
    })
    worker.on('error', (error) => {
      this.error = error
    })
  }

  /** @param {TerminateReason} reason */
  terminate(reason) {
    this.ended = true
    if (reason === 'abort') this.forAbort = true
    this.worker.terminate()
  }
}

module.exports = { WorkerInfo }
