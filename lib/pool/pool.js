'use strict'

// The main-thread side of a WorkerPool. The queue, the choice of worker and the
// record of which worker runs what live in the native core (src/pool), shared with
// the workers (worker.js); this side takes tasks, starts and replaces workers, times
// aborts, shuts down, and settles each task exactly once, in the context of the code
// that submitted it. A task is a PoolTask (task.js), a worker a WorkerInfo
// (worker-info.js), the figures a PoolStats (stats.js).

const { Worker, setEnvironmentData } = require('node:worker_threads')
const { join } = require('node:path')
const binding = require('../shared/binding')
const { TASK_ABORTED, abortError, closeTimedOut, filenameRequired, poolClosed, queueFull, workerExited, workerInit } = require('../shared/errors')
const {
  ownProperty,
  validateBoolean,
  validateFunction,
  validateObject,
  validateString,
  validateTransferList,
} = require('../shared/validators')
const { EventEmitterAsyncResource } = require('../context/resource')
const carried = require('../context/carried')
const { normalize, runModuleUrl } = require('./options')
const { CONFIG, SETTLED_STRIDE, wake, wakeCell } = require('./protocol')
const { takeMoved } = require('./move')
const { SideChannels } = require('./side-channel')
const { PoolStats } = require('./stats')
const { PoolTask, rethrow, validateSignal } = require('./task')
const transport = require('./transport')
const { WorkerInfo } = require('./worker-info')

const WORKER_MAIN = join(__dirname, 'worker.js')

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
  /** @type {Map<number, WorkerInfo>} live workers by id */
  #workerInfos = new Map()
  /** Set when a worker failed to load the task module: no new worker is started until the next task. */
  #initError
  /** As many tasks as the workers run at once: from this many on, `needsDrain`. */
  #capacity
  #idle = []
  #idleTimer
  #needsDrain = false
  #stats = new PoolStats()
  #closeEmitted = false
  #constructed = false
  /** Each worker's MessageChannel, for what only postMessage can carry. */
  #channels = new SideChannels()
  /** Each worker's wake cell, by id, with `atomics: 'sync'` (protocol.js). */
  #wakeCells = new Map()

  constructor(options) {
    const normalized = normalize(options)
    super({ name: 'baton.WorkerPool', requireManualDestroy: true })
    this.#options = normalized
    this.#capacity = normalized.maxThreads * normalized.concurrentTasksPerWorker
    this.#core = new binding.PoolCore((batch) => this.#onSettled(batch), normalized.maxQueue, (worker) => wake(this.#wakeCells.get(worker)))
    for (let i = 0; i < normalized.minThreads; i++) {
      // Options that Worker itself refuses (an unknown execArgv flag, say) fail here.
      if (!this.#startWorker()) {
        this.#core.close()
        this.emitDestroy()
        throw this.#initError
      }
    }
    this.#constructed = true
  }

  /** Runs `task` in a worker; the Promise settles in the caller's context. Bad options reject it, as piscina's async run() does. */
  run(task, options = undefined) {
    try {
      return this.#run(task, options)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `null` for a run option is its absence, as for piscina. */
  #run(task, options) {
    let filename, name, signal, transferList
    if (options !== undefined) {
      validateObject(options, 'options')
      filename = ownProperty(options, 'filename') ?? undefined
      name = ownProperty(options, 'name') ?? undefined
      signal = ownProperty(options, 'signal') ?? undefined
      transferList = ownProperty(options, 'transferList')
    }
    if (filename !== undefined) filename = runModuleUrl(filename)
    if (name !== undefined) validateString(name, 'options.name')
    if (signal !== undefined) validateSignal(signal, 'options.signal')
    if (transferList !== undefined) {
      // An aborted run rejects with its AbortError whatever its list holds, as piscina's,
      // which finds a bad transfer only when it posts the task. Not a list at all still fails.
      const aborted = signal instanceof AbortSignal && signal.aborted
      transferList = aborted && Array.isArray(transferList) ? undefined : validateTransferList(transferList, 'options.transferList')
    }
    return new Promise((resolve, reject) => this.#submit(new PoolTask(this.asyncId, task, name, filename, transferList, signal, undefined, resolve, reject)))
  }

  /** The form of Node's docs pool: `callback(err, result)`, called in the caller's context. */
  runTask(task, callback) {
    validateFunction(callback, 'callback')
    this.#submit(new PoolTask(this.asyncId, task, undefined, undefined, undefined, undefined, callback))
  }

  /** @param {PoolTask} entry */
  #submit(entry) {
    if (this.#state !== OPEN) return entry.refuse(poolClosed())
    if (entry.filename === undefined && this.#options.filename === null) return entry.refuse(filenameRequired())
    const { signal } = entry
    if (entry.aborted) return entry.refuse(abortError(entry.abortReason, TASK_ABORTED))
    let id
    try {
      const stores = carried.capture()
      // Anything to move goes by postMessage: the native queue would copy it. An empty
      // list (piscina's default) moves nothing.
      const payload = !(entry.transferList?.length > 0) ? transport.encodeTask(entry.task, entry.name, entry.filename, stores) : transport.PORTED
      if (payload === transport.PORTED) {
        id = this.#submitPorted(entry, stores)
      } else {
        id = this.#core.submit(payload)
        // No worker has room and the queue is full (with maxQueue 0, always): a worker
        // started now takes the task into its inbox, as piscina counts a starting
        // worker's capacity out of the queue.
        if (id === null && this.#startWorkerFor()) id = this.#core.submit(payload)
      }
    } catch (error) {
      return entry.refuse(error)
    }
    if (id === null) return entry.refuse(this.#initError === undefined ? queueFull(this.#options.maxQueue) : workerInit(this.#options.filename, this.#initError))
    entry.submitted()
    if (this.#tasks.size === 0) this.#busy()
    this.#tasks.set(id, entry)
    if (signal !== undefined) entry.listen(() => this.#abort(id))
    this.#grow()
    if (!this.#needsDrain && this.#tasks.size >= this.#capacity) {
      this.#needsDrain = true
      this.#notify('needsDrain')
    }
  }

  /**
   * A task that only postMessage can carry (see side-channel.js), posted on the channel
   * of the worker the core pins it to: null when the queue is full, and then nothing
   * was posted or moved; postMessage's error, moving nothing, if it cannot be sent.
   */
  #submitPorted(entry, stores) {
    takeMoved(entry)
    // No worker with room, and another may start (or none to pin it to: minThreads 0,
    // or all full with maxQueue reached): one starts for it, as a queued plain task gets
    // the worker started for it, rather than wait for a busy one.
    let worker = this.#core.pinTarget(this.#mayStartWorker(this.#options.maxThreads))
    if (worker === null && this.#startWorkerFor()) worker = this.#core.pinTarget(false)
    if (worker === null) return null
    const post = (value, transferList) => this.#channels.post(worker, value, transferList)
    const marker = transport.postTask(post, entry.task, entry.name, entry.filename, stores, entry.transferList)
    return this.#core.submitTo(worker, marker)
  }

  /**
   * Starts a worker for a task that found no room, if one may start: true if it did.
   * An earlier init failure holds back no new worker for a task that finds none out.
   */
  #startWorkerFor() {
    if (this.#tasks.size === 0) this.#initError = undefined
    return this.#mayStartWorker(this.#options.maxThreads) && this.#startWorker()
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

  /**
   * Whether a new worker may start while fewer than `limit` live: never while the task
   * module fails to load, as it would fail the same way in every new one.
   */
  #mayStartWorker(limit) {
    return this.#workerInfos.size < limit && this.#initError === undefined
  }

  /** Starts a worker while tasks wait in the queue: every worker, started or starting, is full. */
  #grow() {
    if (!this.#mayStartWorker(this.#options.maxThreads)) return
    if (this.#core.queueSize > 0) this.#startWorker()
  }

  #abort(id) {
    const entry = this.#tasks.get(id)
    if (entry === undefined) return
    const where = this.#core.abort(id)
    this.#fail(id, entry, abortError(entry.abortReason, TASK_ABORTED))
    if (where.type !== 'Started' || this.#options.abortGracePeriod === Infinity) return
    // Running: its handler's signal fires now; a handler that ignores it loses its worker.
    const timer = setTimeout(() => {
      const info = this.#workerInfos.get(where.worker)
      if (info === undefined || this.#core.startedOn(id) !== where.worker) return
      info.terminate('abort')
    }, this.#options.abortGracePeriod)
    timer.unref()
  }

  /** False when Worker refuses to start: an init failure, like a module that cannot load. */
  #startWorker() {
    const { filename, name, concurrentTasksPerWorker, workerOptions } = this.#options
    const id = this.#core.addWorker(concurrentTasksPerWorker)
    const cell = this.#options.atomics === 'sync' ? wakeCell() : undefined
    setEnvironmentData(CONFIG, { pool: this.#core.id, worker: id, filename, name, wakeCell: cell })
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
    this.#channels.open(id, worker)
    if (cell !== undefined) this.#wakeCells.set(id, cell)
    const info = new WorkerInfo(id, worker, (message) => this.#notify('message', message))
    this.#workerInfos.set(id, info)
    worker.on('exit', (code) => this.#onExit(info, code))
    // An idle pool must not keep the process alive; pending tasks do (the core's ref).
    // After the 'message' listener: adding one refs the worker's port again.
    worker.unref()
    // The workers the constructor starts are announced once it has returned, as
    // piscina does: a listener added right after `new` hears them.
    if (this.#constructed) this.#notify('workerCreate', worker)
    else queueMicrotask(() => this.#notify('workerCreate', worker))
    return true
  }

  /** The workers cannot start: what waits would fail the same way in every new one. */
  #failInit(cause) {
    this.#initError = cause
    const error = workerInit(this.#options.filename, cause)
    const queued = this.#core.drainQueue()
    for (const id of queued) this.#fail(id, this.#tasks.get(id), error)
    if (queued.length > 0) this.#afterSettle()
  }

  /** @param {WorkerInfo} info */
  #onExit(info, code) {
    this.#workerInfos.delete(info.id)
    // Completions that arrived before the exit settle first, as results.
    this.#core.flush()
    const ended = this.#core.workerExited(info.id, info.forAbort)
    this.#channels.close(info.id)
    this.#wakeCells.delete(info.id)
    for (const id of ended) {
      const entry = this.#tasks.get(id)
      if (entry === undefined) continue
      this.#fail(id, entry, this.#state === DESTROYING ? poolClosed() : workerExited(code, info.error))
    }
    // Tasks the worker had not started went back to the queue, where no worker of a
    // destroyed pool will take them.
    if (this.#state === DESTROYING) this.#rejectQueued()
    // An error before the worker attached: its task module failed to load.
    if (!info.ready && info.error !== undefined) this.#failInit(info.error)
    // A crash with no task to reject (a timer's exception after its task settled, say) is
    // reported on the pool, as Node reports a Worker's: not lost.
    if (info.ready && !info.ended && info.error !== undefined && ended.length === 0) this.#notify('error', info.error)
    this.#notify('workerExit', info.worker, code)
    // A replacement: while the pool is open, and while a closing pool still has tasks.
    if (this.#state === OPEN || (this.#state === CLOSING && this.#tasks.size > 0)) {
      if (this.#mayStartWorker(this.#options.minThreads)) this.#startWorker()
      this.#grow()
    }
    this.#afterSettle()
  }

  /**
   * The native core's batches, each one ArrayBuffer: a count, then `taskId,
   * payloadLength, waitNs, runNs` per task as f64s, then the payloads end to end.
   */
  #onSettled(batch) {
    const numbers = new Float64Array(batch)
    const bytes = Buffer.from(batch)
    const last = numbers[0] * SETTLED_STRIDE
    let end = (last + 1) * Float64Array.BYTES_PER_ELEMENT
    for (let i = 1; i <= last; i += SETTLED_STRIDE) {
      const id = numbers[i]
      const start = end
      end += numbers[i + 1]
      const entry = this.#tasks.get(id)
      // Aborted while it ran, or ended with its worker: settled already.
      if (entry === undefined) {
        transport.discardOutcome(bytes, this.#channels, start, end)
        continue
      }
      this.#stats.record(numbers[i + 2], numbers[i + 3])
      let outcome
      try {
        outcome = transport.decodeOutcome(bytes, this.#channels, start, end)
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
    if (this.#needsDrain && this.#tasks.size < this.#capacity) {
      this.#needsDrain = false
      this.#notify('drain')
    }
    if (this.#tasks.size > 0) return
    this.#core.setRef(false)
    for (const resolve of this.#idle.splice(0)) resolve()
    if (this.#state !== OPEN || this.#idleTimer !== undefined) return
    const { idleTimeout, minThreads } = this.#options
    if (idleTimeout === Infinity || this.#workerInfos.size <= minThreads) return
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined
      const extra = [...this.#workerInfos.values()].slice(minThreads)
      for (const info of extra) info.terminate('idle')
    }, idleTimeout)
    this.#idleTimer.unref()
  }

  /**
   * Stops taking tasks, lets the queued and running ones finish (with `force`, rejects
   * the queued ones with ERR_BATON_POOL_CLOSED), then ends the workers. Bad options
   * reject, as piscina's async close() does.
   */
  close(options = undefined) {
    try {
      return this.#close(options)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #close(options) {
    let force = false
    if (options !== undefined) {
      validateObject(options, 'options')
      force = ownProperty(options, 'force') ?? false
      validateBoolean(force, 'options.force')
    }
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

  /** `using`: starts close() without waiting, as piscina's; its failure is close()'s rejection. */
  [Symbol.dispose]() {
    this.close()
  }

  #rejectQueued() {
    for (const id of this.#core.drainQueue()) this.#fail(id, this.#tasks.get(id), poolClosed())
    this.#afterSettle()
  }

  async #shutDown(now) {
    clearTimeout(this.#idleTimer)
    const timedOut = !now && this.#tasks.size > 0 ? await this.#drained() : undefined
    const exits = []
    if (now || timedOut !== undefined) this.#state = DESTROYING
    // Past closeTimeout, close() ends as destroy() does.
    if (timedOut !== undefined) this.#rejectQueued()
    for (const info of this.#workerInfos.values()) {
      // 'exit' alone, as Node's own terminate() waits: events.once() would reject on an
      // 'error' the thread raises as it ends, failing close() for a worker it ended.
      exits.push(new Promise((resolve) => info.worker.once('exit', resolve)))
      info.terminate('shutdown')
    }
    await Promise.all(exits)
    this.#core.close()
    // Once, also when close() and destroy() both shut down: baton's emitDestroy() is idempotent.
    this.emitDestroy()
    // As piscina: a timed-out close() is an 'error' if one is listened for, else its rejection.
    const unheard = timedOut !== undefined && this.listenerCount('error') === 0
    if (timedOut !== undefined && !unheard) this.#notify('error', timedOut)
    if (!this.#closeEmitted) {
      this.#closeEmitted = true
      this.#notify('close')
    }
    if (unheard) throw timedOut
  }

  /** Resolves once no task is left, with undefined; or with ERR_BATON_CLOSE_TIMEOUT after closeTimeout. */
  #drained() {
    const { closeTimeout } = this.#options
    return new Promise((resolve) => {
      const timer = closeTimeout === Infinity ? undefined : setTimeout(() => resolve(closeTimedOut(closeTimeout)), closeTimeout)
      // The tasks keep the process alive; an idle wait for them must not.
      timer?.unref()
      this.#idle.push(() => {
        clearTimeout(timer)
        resolve(undefined)
      })
    })
  }

  /** The options in use, filled in (frozen): piscina's `options`. */
  get options() {
    return this.#options.public
  }

  get maxThreads() {
    return this.#options.maxThreads
  }

  get minThreads() {
    return this.#options.minThreads
  }

  /** Milliseconds since the pool was made. */
  get duration() {
    return this.#stats.duration
  }

  /** Workers with no task; one still starting counts, as piscina counts the workers it starts with. */
  get idleThreads() {
    return this.#core.idleWorkers
  }

  get completed() {
    return this.#stats.completed
  }

  get queueSize() {
    return this.#core.queueSize
  }

  get needsDrain() {
    return this.#needsDrain
  }

  /** The live workers. */
  get threads() {
    return [...this.#workerInfos.values()].map((info) => info.worker)
  }

  /** Run time over wall time since the pool started, across maxThreads workers: 0 to 1. */
  get utilization() {
    return this.#stats.utilization(this.#options.maxThreads)
  }

  /** How long tasks ran in their worker, in nanoseconds (a perf_hooks histogram). */
  get runTime() {
    return this.#stats.runTime
  }

  /** How long tasks waited between submission and their worker taking them, in nanoseconds. */
  get waitTime() {
    return this.#stats.waitTime
  }
}

module.exports = { WorkerPool }
