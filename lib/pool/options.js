'use strict'

// WorkerPool's options: checked once, at construction, with Node's error codes, and
// filled in with defaults.

const { statSync } = require('node:fs')
const { availableParallelism } = require('node:os')
const { join, resolve } = require('node:path')
const { fileURLToPath, pathToFileURL } = require('node:url')
const { invalidArgType, nodeError, outOfRange } = require('../shared/errors')
const { ownProperty, validateInteger, validateObject } = require('../shared/validators')

const DEFAULT_TASK = join(__dirname, 'default-task.js')

function validateCount(value, name, min) {
  if (value === Infinity) return
  validateInteger(value, name, min, Number.MAX_SAFE_INTEGER)
}

/** Node's timers take at most this many ms (a longer delay fires after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** A delay for a timer: `Infinity` is never, anything else must fit Node's timers. */
function validateDelay(value, name) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (value === Infinity) return
  if (!(value >= 0 && value <= MAX_TIMER_MS)) throw outOfRange(name, `>= 0 && <= ${MAX_TIMER_MS}, or Infinity`, value)
}

/** The worker module as a file URL; it must exist now, not fail later in every worker. */
function moduleUrl(filename) {
  let path
  if (filename instanceof URL || (typeof filename === 'string' && filename.startsWith('file:'))) {
    path = fileURLToPath(filename)
  } else if (typeof filename === 'string') {
    path = resolve(filename)
  } else {
    throw invalidArgType('options.filename', 'of type string or an instance of URL', filename)
  }
  let isFile = false
  try {
    isFile = statSync(path).isFile()
  } catch {}
  if (!isFile) throw nodeError(Error, 'ERR_MODULE_NOT_FOUND', `Cannot find worker module '${path}'`)
  return pathToFileURL(path).href
}

/** `new WorkerPool(numThreads | filename | options)`. */
function normalize(options) {
  if (typeof options === 'number') {
    validateInteger(options, 'numThreads', 1, 1024)
    options = { minThreads: options, maxThreads: options }
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
  const maxThreads = option('maxThreads', availableParallelism())
  validateInteger(maxThreads, 'options.maxThreads', 1, 1024)
  const minThreads = option('minThreads', Math.min(maxThreads, Math.max(1, Math.floor(availableParallelism() / 2))))
  validateInteger(minThreads, 'options.minThreads', 0, maxThreads)
  const idleTimeout = option('idleTimeout', 1000)
  validateDelay(idleTimeout, 'options.idleTimeout')
  const maxQueue = option('maxQueue', Infinity)
  if (maxQueue !== 'auto') validateCount(maxQueue, 'options.maxQueue', 0)
  const concurrentTasksPerWorker = option('concurrentTasksPerWorker', 1)
  validateInteger(concurrentTasksPerWorker, 'options.concurrentTasksPerWorker', 1, 1024)
  const abortGracePeriod = option('abortGracePeriod', 1000)
  validateDelay(abortGracePeriod, 'options.abortGracePeriod')
  const name = option('name')
  if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'of type string', name)
  // What Worker reads, on an object with no prototype: it finds nothing it was not given.
  const workerOptions = { __proto__: null }
  const resourceLimits = option('resourceLimits')
  if (resourceLimits !== undefined) {
    validateObject(resourceLimits, 'options.resourceLimits')
    workerOptions.resourceLimits = ownCopy(resourceLimits)
  }
  const env = option('env')
  if (env !== undefined) {
    if (typeof env !== 'symbol') validateObject(env, 'options.env')
    workerOptions.env = typeof env === 'symbol' ? env : ownCopy(env)
  }
  const execArgv = option('execArgv')
  if (execArgv !== undefined) workerOptions.execArgv = stringArray(execArgv, 'options.execArgv')
  const workerData = option('workerData')
  if (workerData !== undefined) workerOptions.workerData = workerData
  return {
    filename: moduleUrl(option('filename', DEFAULT_TASK)),
    name,
    minThreads,
    maxThreads,
    idleTimeout,
    maxQueue: maxQueue === 'auto' ? maxThreads ** 2 : maxQueue,
    concurrentTasksPerWorker,
    abortGracePeriod,
    workerOptions,
  }
}

/** A copy of `object`'s own enumerable string-keyed properties, with no prototype. */
function ownCopy(object) {
  const copy = { __proto__: null }
  for (const key of Object.keys(object)) copy[key] = object[key]
  return copy
}

/** A new array of the own elements of `value`, each a string (a hole is not one). */
function stringArray(value, name) {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value)
  const strings = []
  for (let i = 0; i < value.length; i++) {
    const item = Object.hasOwn(value, i) ? value[i] : undefined
    if (typeof item !== 'string') throw invalidArgType(`${name}[${i}]`, 'of type string', item)
    strings.push(item)
  }
  return strings
}

module.exports = { normalize }
