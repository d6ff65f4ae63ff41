'use strict'

// The main-thread side of a WorkerPool. The queue, the choice of worker and the
// record of which worker runs what live in the native core (src/pool), shared with
// the workers (worker.js); this side starts and replaces workers, and settles each
// task exactly once, in the context of the code that submitted it.

const { once } = require('node:events')
const { createHistogram, performance } = require('node:perf_hooks')
const { Worker, setEnvironmentData } = require('node:worker_threads')
const { join } = require('node:path')
const binding = require('../shared/binding')
const { AbortError, invalidArgType, nodeError } = require('../shared/errors')
const { validateAbortSignal, validateFunction, validateObject } = require('../shared/validators')
const { AsyncResource, EventEmitterAsyncResource } = require('../context/resource')
const workers = require('../context/workers')
const { normalize } = require('./options')
const { CONFIG, EXITED_LOADING, READY, SETTLED_STRIDE } = require('./protocol')
const transport = require('./transport')

const WORKER_MAIN = join(__dirname, 'worker.js')

/** One submitted task: an AsyncResource of the submitter's context, listed in baton's registry until settled. */
class PoolTask extends AsyncResource {
  constructor(triggerAsyncId, callback, resolve, reject, signal) {
    super('baton.WorkerPoolTask', { triggerAsyncId, requireManualDestroy: true })
    this.callback = callback
    this.resolve = resolve
    this.reject = reject
    this.signal = signal
    this.onAbort = undefined
  }

  /** `ok` apart from the result: a task may throw `null` or `undefined`, and that is a failure. */
  settle(ok, result) {
    if (this.onAbort !== undefined) this.signal.removeEventListener('abort', this.onAbort)
    if (this.callback === undefined) {
      if (ok) this.resolve(result)
      else this.reject(result)
    } else {
      this.runInAsyncScope(callBack, null, this.callback, ok, result)
    }
    this.emitDestroy()
  }
}

/**
 * A throwing callback becomes an uncaught exception raised in the submitter's context,
 * as for Node's own callbacks, without keeping the rest of the batch from settling.
 */
function callBack(callback, ok, result) {
  try {
    if (ok) callback(null, result)
    else callback(result || falsyThrown(result))
  } catch (thrown) {
    process.nextTick(rethrow, thrown)
  }
}

/**
 * A task that threw `null`, `undefined` or another falsy value must not look like a
 * success to `callback(err, result)`: wrapped as Node's util.callbackify does.
 */
function falsyThrown(reason) {
  const error = nodeError(Error, 'ERR_FALSY_VALUE_REJECTION', 'The task failed with a falsy value')
  error.reason = reason
  return error
}

/** A task the pool did not take fails like one it did: never synchronously to a callback. */
function refuse(callback, reject, error) {
  if (callback === undefined) reject(error)
  else process.nextTick(callback, error)
}

function rethrow(error) {
  throw error
}

function poolClosed() {
  return nodeError(Error, 'ERR_BATON_POOL_CLOSED', 'The WorkerPool is closed')
}

function workerExited(code, cause) {
  const why = cause === undefined ? `exited with code ${code}` : `crashed: ${cause.message ?? cause}`
  return nodeError(Error, 'ERR_BATON_WORKER_EXITED', `The worker running this task ${why}`, cause === undefined ? undefined : { cause })
}

function abortError(signal) {
  return new AbortError('The task has been aborted', { cause: signal.reason })
}

const OPEN = 0
const CLOSING = 1
const DESTROYING = 2

class WorkerPool extends EventEmitterAsyncResource {
  #options
  #core
  #state = OPEN
  #closing
  /** Unsettled tasks by id: queued or running. */
  #tasks = new Map()
  /** Live workers by id: { id, worker, ready, error, ended, forAbort }; `ended`: the pool terminated it. */
  #workers = new Map()
  #starting = 0
  /** Set when a worker failed to load the task module: no new worker is started until the next task. */
  #initError
  /** Tasks beyond this many wait in the queue: `needsDrain`. */
  #capacity
  #idle = []
  #idleTimer
  #needsDrain = false
  #completed = 0
  #runTime = createHistogram()
  #waitTime = createHistogram()
  #busyNs = 0
  #startedAt = performance.now()

  constructor(options) {
    const normalized = normalize(options)
    super({ name: 'baton.WorkerPool', requireManualDestroy: true })
    this.#options = normalized
    this.#capacity = normalized.maxThreads * normalized.concurrentTasksPerWorker
    this.#core = new binding.PoolCore((batch) => this.#onSettled(batch), normalized.maxQueue)
    for (let i = 0; i < normalized.minThreads; i++) {
      // Options that Worker itself refuses (an unknown execArgv flag, say) fail here.
      if (!this.#startWorker()) {
        this.#core.close()
        this.emitDestroy()
        throw this.#initError
      }
    }
  }

  /** Runs `task` in a worker; the Promise settles in the caller's context. */
  run(task, options = {}) {
    validateObject(options, 'options')
    const { name, signal, transferList } = options
    if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'of type string', name)
    if (signal !== undefined) validateAbortSignal(signal, 'options.signal')
    if (transferList !== undefined) validateTransferList(transferList)
    return new Promise((resolve, reject) => this.#submit(task, name, signal, transferList, undefined, resolve, reject))
  }

  /** The form of Node's docs pool: `callback(err, result)`, called in the caller's context. */
  runTask(task, callback) {
    validateFunction(callback, 'callback')
    this.#submit(task, undefined, undefined, undefined, callback)
  }

  #submit(task, name, signal, transferList, callback, resolve, reject) {
    if (this.#state !== OPEN) return refuse(callback, reject, poolClosed())
    if (signal?.aborted) return refuse(callback, reject, abortError(signal))
    let payload
    try {
      payload = transport.encodeTask(task, name, workers.capture())
    } catch (error) {
      return refuse(callback, reject, error)
    }
    const id = this.#core.submit(payload)
    if (id === null) {
      // More demand than the workers take: with maxQueue 0 nothing ever waits, so this is
      // the only moment to start one for the tasks to come.
      if (this.#starting === 0 && this.#workers.size < this.#options.maxThreads && this.#initError === undefined) this.#startWorker()
      return refuse(callback, reject, nodeError(Error, 'ERR_BATON_QUEUE_FULL', `The WorkerPool's queue is full (maxQueue: ${this.#options.maxQueue})`))
    }
    // Only a task the pool took moves its buffers.
    if (transferList !== undefined) detach(transferList)
    const entry = new PoolTask(this.asyncId, callback, resolve, reject, signal)
    if (this.#tasks.size === 0) this.#busy()
    this.#tasks.set(id, entry)
    if (signal !== undefined) {
      entry.onAbort = () => this.#abort(id)
      signal.addEventListener('abort', entry.onAbort, { once: true })
    }
    if (this.#workers.size < this.#options.maxThreads) this.#grow()
    if (!this.#needsDrain && this.#tasks.size > this.#capacity) {
      this.#needsDrain = true
      this.#notify('needsDrain')
    }
  }

  /**
   * Emits `event` from the middle of the pool's bookkeeping: a listener's throw is
   * raised as an uncaught exception once that is done, not inside it (where it would
   * leave tasks unsettled or a worker unreplaced, or be swallowed by N-API).
   */
  #notify(event, ...args) {
    try {
      this.emit(event, ...args)
    } catch (error) {
      process.nextTick(rethrow, error)
    }
  }

  /** Tasks are out: the process stays alive for them, the pool does not shrink. */
  #busy() {
    this.#core.setRef(true)
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    this.#initError = undefined
  }

  /** Starts a worker while tasks wait for one that is not already starting. */
  #grow() {
    if (this.#workers.size >= this.#options.maxThreads || this.#initError !== undefined) return
    if (this.#core.queueSize > this.#starting * this.#options.concurrentTasksPerWorker) this.#startWorker()
  }

  #abort(id) {
    const entry = this.#tasks.get(id)
    if (entry === undefined) return
    const where = this.#core.abort(id)
    this.#fail(id, entry, abortError(entry.signal))
    if (where.type !== 'Started') return
    // Running: its handler's signal fires now; a handler that ignores it loses its worker.
    const timer = setTimeout(() => {
      const record = this.#workers.get(where.worker)
      if (record === undefined || this.#core.startedOn(id) !== where.worker) return
      record.forAbort = true
      end(record)
    }, this.#options.abortGracePeriod)
    timer.unref()
  }

  /** False when Worker refuses to start: an init failure, like a module that cannot load. */
  #startWorker() {
    const { filename, name, concurrentTasksPerWorker, workerOptions } = this.#options
    const id = this.#core.addWorker(concurrentTasksPerWorker)
    setEnvironmentData(CONFIG, { pool: this.#core.id, worker: id, filename, name })
    let worker
    try {
      worker = new Worker(WORKER_MAIN, workerOptions)
    } catch (error) {
      this.#core.workerExited(id, false)
      this.#failInit(error)
      return false
    } finally {
      setEnvironmentData(CONFIG, undefined)
    }
    const record = { id, worker, ready: false, error: undefined, ended: false, forAbort: false }
    this.#workers.set(id, record)
    this.#starting++
    worker.on('message', (message) => {
      if (message === READY) {
        record.ready = true
        this.#starting--
      } else if (message === EXITED_LOADING) {
        record.error ??= new Error('the worker called process.exit() while loading')
      }
    })
    worker.on('error', (error) => {
      record.error = error
    })
    worker.on('exit', (code) => this.#onExit(record, code))
    // An idle pool must not keep the process alive; pending tasks do (the core's ref).
    // After the 'message' listener: adding one refs the worker's port again.
    worker.unref()
    this.#notify('workerCreate', worker)
    return true
  }

  /** The workers cannot start: what waits would fail the same way in every new one. */
  #failInit(cause) {
    this.#initError = cause
    const error = nodeError(Error, 'ERR_BATON_WORKER_INIT', `A worker could not load ${this.#options.filename}: ${cause.message}`, { cause })
    const queued = this.#core.drainQueue()
    for (const id of queued) this.#fail(id, this.#tasks.get(id), error)
    if (queued.length > 0) this.#afterSettle()
  }

  #onExit(record, code) {
    this.#workers.delete(record.id)
    if (!record.ready) this.#starting--
    // Completions that arrived before the exit settle first, as results.
    this.#core.flush()
    const ended = this.#core.workerExited(record.id, record.forAbort)
    for (const id of ended) {
      const entry = this.#tasks.get(id)
      if (entry === undefined) continue
      this.#fail(id, entry, this.#state === DESTROYING ? poolClosed() : workerExited(code, record.error))
    }
    // Tasks the worker had not started went back to the queue, where no worker of a
    // destroyed pool will take them.
    if (this.#state === DESTROYING) this.#rejectQueued()
    // An error before the worker attached: its task module failed to load.
    if (!record.ready && record.error !== undefined) this.#failInit(record.error)
    // A crash with no task to reject (a timer's exception after its task settled, say) is
    // reported on the pool, as Node reports a Worker's: not lost.
    if (record.ready && !record.ended && record.error !== undefined && ended.length === 0) this.#notify('error', record.error)
    this.#notify('workerExit', record.worker, code)
    // A replacement: while the pool is open, and while a closing pool still has tasks.
    if (this.#state === OPEN || (this.#state === CLOSING && this.#tasks.size > 0)) {
      if (this.#initError === undefined && this.#workers.size < this.#options.minThreads) this.#startWorker()
      this.#grow()
    }
    this.#afterSettle()
  }

  /** The native core's batches: `taskId, payload, waitNs, runNs` quadruples. */
  #onSettled(batch) {
    for (let i = 0; i < batch.length; i += SETTLED_STRIDE) {
      const id = batch[i]
      const entry = this.#tasks.get(id)
      // Aborted while it ran, or ended with its worker: settled already.
      if (entry === undefined) continue
      const runNs = batch[i + 3]
      this.#completed++
      this.#busyNs += runNs
      this.#waitTime.record(Math.max(1, Math.round(batch[i + 2])))
      this.#runTime.record(Math.max(1, Math.round(runNs)))
      let outcome
      try {
        outcome = transport.decodeOutcome(batch[i + 1])
      } catch (error) {
        outcome = { ok: false, error }
      }
      if (outcome.ok) this.#settle(id, entry, true, outcome.value)
      else this.#fail(id, entry, outcome.error)
    }
    this.#afterSettle()
  }

  #settle(id, entry, ok, result) {
    this.#tasks.delete(id)
    entry.settle(ok, result)
  }

  #fail(id, entry, error) {
    this.#settle(id, entry, false, error)
  }

  #afterSettle() {
    if (this.#needsDrain && this.#tasks.size <= this.#capacity) {
      this.#needsDrain = false
      this.#notify('drain')
    }
    if (this.#tasks.size > 0) return
    this.#core.setRef(false)
    for (const resolve of this.#idle.splice(0)) resolve()
    if (this.#state !== OPEN || this.#idleTimer !== undefined) return
    const { idleTimeout, minThreads } = this.#options
    if (idleTimeout === Infinity || this.#workers.size <= minThreads) return
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined
      const extra = [...this.#workers.values()].slice(minThreads)
      for (const record of extra) end(record)
    }, idleTimeout)
    this.#idleTimer.unref()
  }

  /**
   * Stops taking tasks, lets the queued and running ones finish (with `force`, rejects
   * the queued ones with ERR_BATON_POOL_CLOSED), then ends the workers.
   */
  close({ force = false } = {}) {
    if (this.#closing === undefined) {
      this.#state = CLOSING
      if (force) this.#rejectQueued()
      this.#closing = this.#shutDown(false)
    } else if (force) {
      this.#rejectQueued()
    }
    return this.#closing
  }

  /** Ends every worker now: queued and running tasks reject with ERR_BATON_POOL_CLOSED. */
  destroy() {
    this.#state = DESTROYING
    this.#rejectQueued()
    const destroyed = this.#shutDown(true)
    this.#closing ??= destroyed
    return destroyed
  }

  async [Symbol.asyncDispose]() {
    await this.close()
  }

  #rejectQueued() {
    for (const id of this.#core.drainQueue()) this.#fail(id, this.#tasks.get(id), poolClosed())
    this.#afterSettle()
  }

  async #shutDown(now) {
    clearTimeout(this.#idleTimer)
    if (!now && this.#tasks.size > 0) await new Promise((resolve) => this.#idle.push(resolve))
    const exits = []
    if (now) this.#state = DESTROYING
    for (const record of this.#workers.values()) {
      exits.push(once(record.worker, 'exit'))
      end(record)
    }
    await Promise.all(exits)
    this.#core.close()
    // Once, also when close() and destroy() both shut down: baton's emitDestroy() is idempotent.
    this.emitDestroy()
  }

  get completed() {
    return this.#completed
  }

  get queueSize() {
    return this.#core.queueSize
  }

  get needsDrain() {
    return this.#needsDrain
  }

  /** The live workers. */
  get threads() {
    return [...this.#workers.values()].map((record) => record.worker)
  }

  /** Run time over wall time since the pool started, across maxThreads workers: 0 to 1. */
  get utilization() {
    const elapsedNs = (performance.now() - this.#startedAt) * 1e6
    return elapsedNs > 0 ? Math.min(1, this.#busyNs / (elapsedNs * this.#options.maxThreads)) : 0
  }

  /** How long tasks ran in their worker, in nanoseconds (a perf_hooks histogram). */
  get runTime() {
    return this.#runTime
  }

  /** How long tasks waited between submission and their worker taking them, in nanoseconds. */
  get waitTime() {
    return this.#waitTime
  }
}

/** Terminates a worker on the pool's own account: its exit is not a crash. */
function end(record) {
  record.ended = true
  record.worker.terminate()
}

/**
 * `transferList`: ArrayBuffers move to the worker. Their bytes travel in the payload
 * (the native queue holds bytes, not V8 objects), and here they are detached, as
 * after a postMessage transfer.
 */
function detach(transferList) {
  for (const item of transferList) {
    const buffer = ArrayBuffer.isView(item) ? item.buffer : item
    if (!buffer.detached && buffer.byteLength > 0) structuredClone(buffer, { transfer: [buffer] })
  }
}

function validateTransferList(transferList) {
  const ok = Array.isArray(transferList) && transferList.every((item) => (ArrayBuffer.isView(item) ? item.buffer : item) instanceof ArrayBuffer)
  if (!ok) throw invalidArgType('options.transferList', 'an array of ArrayBuffers or views of them', transferList)
}

module.exports = { WorkerPool }
