'use strict'

// What a WorkerPool reports about the tasks it completed, as piscina does: counts,
// run and wait time histograms, utilization.

const { createHistogram, performance } = require('node:perf_hooks')

class PoolStats {
  completed = 0
  /** How long tasks ran in their worker, in nanoseconds. */
  runTime = createHistogram()
  /** How long tasks waited between submission and their worker taking them, in nanoseconds. */
  waitTime = createHistogram()
  #busyNs = 0
  #startedAt = performance.now()

  /** One completed task's times, as the native core measured them. */
  record(waitNs, runNs) {
    this.completed++
    this.#busyNs += runNs
    // A histogram takes integers >= 1 only.
    this.waitTime.record(Math.max(1, Math.round(waitNs)))
    this.runTime.record(Math.max(1, Math.round(runNs)))
  }

  /** Milliseconds since the pool started, as piscina's `duration`. */
  get duration() {
    return performance.now() - this.#startedAt
  }

  /** Run time over wall time since the pool started, across `maxThreads` workers: 0 to 1. */
  utilization(maxThreads) {
    const elapsedNs = this.duration * 1e6
    return elapsedNs > 0 ? Math.min(1, this.#busyNs / (elapsedNs * maxThreads)) : 0
  }
}

module.exports = { PoolStats }
