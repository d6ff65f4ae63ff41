'use strict'

// WorkerPool's options: checked once, at construction, with Node's error codes, and
// filled in with defaults.

const { statSync } = require('node:fs')
const { inspect } = require('node:util')
const { availableParallelism } = require('node:os')
const { join, resolve } = require('node:path')
const { fileURLToPath, pathToFileURL } = require('node:url')
const { invalidArgType, invalidArgValue, workerModuleNotFound } = require('../shared/errors')
const {
  ownProperty,
  validateCount,
  validateDelay,
  validateInteger,
  validateObject,
  validateString,
  validateStringArray,
} = require('../shared/validators')

const DEFAULT_TASK = join(__dirname, 'default-task.js')

/**
 * piscina's `atomics` values. `'sync'`: a worker with nothing in flight parks in
 * Atomics.wait, and the main thread wakes it with Atomics.notify (its event loop does
 * not run meanwhile). `'async'` and `'disabled'`: it sleeps in its event loop and is woken
 * through it, as piscina's 'async' keeps the loop running; baton never reads tasks from
 * 'message' events, so the two mean the same here.
 */
const ATOMICS = ['sync', 'async', 'disabled']

/** The worker module as a file URL; it must exist now, not fail later in every worker. */
function moduleUrl(filename) {
  const path = modulePath(filename)
  let isFile = false
  try {
    isFile = statSync(path).isFile()
  } catch {}
  if (!isFile) throw workerModuleNotFound(path)
  return pathToFileURL(path).href
}

/** A worker module's path or file URL as an absolute path. */
function modulePath(filename) {
  if (filename instanceof URL || (typeof filename === 'string' && filename.startsWith('file:'))) return fileURLToPath(filename)
  if (typeof filename === 'string') return resolve(filename)
  throw invalidArgType('options.filename', 'of type string or an instance of URL, or null', filename)
}

/** run()'s `filename` by absolute path: each is resolved and checked once, not at every run. */
const runModules = new Map()

/** run()'s `filename` as moduleUrl gives it, cached. */
function runModuleUrl(filename) {
  const path = modulePath(filename)
  let url = runModules.get(path)
  if (url === undefined) {
    url = moduleUrl(path)
    runModules.set(path, url)
  }
  return url
}

/**
 * `new WorkerPool(numThreads | filename | options)`. Only the number form runs the
 * built-in `a + b` task; otherwise a pool without a filename is one whose runs name
 * their module, as in piscina (`filename` is then null).
 */
function normalize(options) {
  if (typeof options === 'number') {
    validateInteger(options, 'numThreads', 1, 1024)
    options = { minThreads: options, maxThreads: options, filename: DEFAULT_TASK }
  } else if (typeof options === 'string' || options instanceof URL) {
    options = { filename: options }
  } else if (options === undefined) {
    options = {}
  }
  validateObject(options, 'options')
  // Own properties only: a polluted Object.prototype must not choose the module, flags or data.
  const option = (key, fallback) => {
    const value = ownProperty(options, key)
    return value === undefined ? fallback : value
  }
  // As piscina: a minThreads above the default maxThreads raises it; an explicit
  // maxThreads below minThreads is an error.
  const givenMax = option('maxThreads')
  if (givenMax !== undefined) validateInteger(givenMax, 'options.maxThreads', 1, 1024)
  const givenMin = option('minThreads')
  if (givenMin !== undefined) validateInteger(givenMin, 'options.minThreads', 0, givenMax ?? 1024)
  const maxThreads = givenMax ?? Math.max(availableParallelism(), givenMin ?? 0)
  const minThreads = givenMin ?? Math.min(maxThreads, Math.max(1, Math.floor(availableParallelism() / 2)))
  const idleTimeout = option('idleTimeout', 1000)
  validateDelay(idleTimeout, 'options.idleTimeout')
  const maxQueue = option('maxQueue', Infinity)
  if (maxQueue !== 'auto') validateCount(maxQueue, 'options.maxQueue', 0)
  const concurrentTasksPerWorker = option('concurrentTasksPerWorker', 1)
  validateInteger(concurrentTasksPerWorker, 'options.concurrentTasksPerWorker', 1, 1024)
  const abortGracePeriod = option('abortGracePeriod', 1000)
  validateDelay(abortGracePeriod, 'options.abortGracePeriod')
  const closeTimeout = option('closeTimeout', 30_000)
  validateDelay(closeTimeout, 'options.closeTimeout')
  const name = option('name')
  if (name !== undefined) validateString(name, 'options.name')
  // Not piscina's 'sync': on a shared two-core machine its wake-up measured no faster for
  // a task to an idle pool, where the kernel's scheduling of the sleeping threads is the
  // cost, and the trade-off (a parked worker's loop stalls) is not worth it unmeasured.
  const atomics = option('atomics', 'disabled')
  if (!ATOMICS.includes(atomics)) {
    throw invalidArgValue(`The property 'options.atomics' must be one of: ${ATOMICS.map((v) => `'${v}'`).join(', ')}. Received ${inspect(atomics, { depth: -1 })}`)
  }
  // What Worker reads, on an object with no prototype: it finds nothing it was not given.
  const workerOptions = { __proto__: null }
  const resourceLimits = option('resourceLimits')
  if (resourceLimits !== undefined) {
    validateObject(resourceLimits, 'options.resourceLimits')
    workerOptions.resourceLimits = Object.freeze(ownCopy(resourceLimits))
  }
  const env = option('env')
  if (env !== undefined) {
    if (typeof env !== 'symbol') validateObject(env, 'options.env')
    workerOptions.env = typeof env === 'symbol' ? env : Object.freeze(ownCopy(env))
  }
  const execArgv = option('execArgv')
  if (execArgv !== undefined) workerOptions.execArgv = validateStringArray(execArgv, 'options.execArgv')
  const argv = option('argv')
  if (argv !== undefined) workerOptions.argv = validateStringArray(argv, 'options.argv')
  const workerData = option('workerData')
  if (workerData !== undefined) workerOptions.workerData = workerData
  const filename = option('filename', null)
  const normalized = {
    filename: filename === null ? null : moduleUrl(filename),
    name,
    minThreads,
    maxThreads,
    idleTimeout,
    maxQueue: maxQueue === 'auto' ? maxThreads ** 2 : maxQueue,
    concurrentTasksPerWorker,
    abortGracePeriod,
    closeTimeout,
    atomics,
    workerOptions,
  }
  // What the pool's `options` getter shows, as piscina's: the options filled in, the
  // module as a path. Frozen, and what Worker gets is frozen too: nothing to change behind the pool's back.
  normalized.public = Object.freeze({
    __proto__: null,
    filename: normalized.filename === null ? null : fileURLToPath(normalized.filename),
    name: name ?? null,
    minThreads,
    maxThreads,
    idleTimeout,
    maxQueue: normalized.maxQueue,
    concurrentTasksPerWorker,
    abortGracePeriod,
    closeTimeout,
    atomics,
    resourceLimits: workerOptions.resourceLimits,
    env: workerOptions.env,
    execArgv: workerOptions.execArgv === undefined ? undefined : Object.freeze([...workerOptions.execArgv]),
    argv: workerOptions.argv === undefined ? undefined : Object.freeze([...workerOptions.argv]),
    workerData: workerOptions.workerData,
  })
  return normalized
}

/** A copy of `object`'s own enumerable string-keyed properties, with no prototype. */
function ownCopy(object) {
  const copy = { __proto__: null }
  for (const key of Object.keys(object)) copy[key] = object[key]
  return copy
}

module.exports = { normalize, runModuleUrl }
