'use strict'

// WorkerPool's options: checked once, at construction, with Node's error codes, and
// filled in with defaults.

const { statSync } = require('node:fs')
const { availableParallelism } = require('node:os')
const { join, resolve } = require('node:path')
const { fileURLToPath, pathToFileURL } = require('node:url')
const { invalidArgType, nodeError, outOfRange } = require('../shared/errors')
const { validateInteger, validateObject } = require('../shared/validators')

const DEFAULT_TASK = join(__dirname, 'default-task.js')

function validateCount(value, name, min) {
  if (value === Infinity) return
  validateInteger(value, name, min, Number.MAX_SAFE_INTEGER)
}

function validateDuration(value, name) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!(value >= 0)) throw outOfRange(name, '>= 0', value)
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
  const {
    filename = DEFAULT_TASK,
    name,
    maxThreads = availableParallelism(),
    minThreads = Math.min(maxThreads, Math.max(1, Math.floor(availableParallelism() / 2))),
    idleTimeout = 1000,
    maxQueue = Infinity,
    concurrentTasksPerWorker = 1,
    abortGracePeriod = 1000,
    resourceLimits,
    execArgv,
    env,
    workerData,
  } = options
  validateInteger(maxThreads, 'options.maxThreads', 1, 1024)
  validateInteger(minThreads, 'options.minThreads', 0, maxThreads)
  validateDuration(idleTimeout, 'options.idleTimeout')
  if (maxQueue !== 'auto') validateCount(maxQueue, 'options.maxQueue', 0)
  validateInteger(concurrentTasksPerWorker, 'options.concurrentTasksPerWorker', 1, 1024)
  validateDuration(abortGracePeriod, 'options.abortGracePeriod')
  if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'of type string', name)
  if (resourceLimits !== undefined) validateObject(resourceLimits, 'options.resourceLimits')
  if (env !== undefined && typeof env !== 'symbol') validateObject(env, 'options.env')
  if (execArgv !== undefined && (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== 'string'))) {
    throw invalidArgType('options.execArgv', 'an array of strings', execArgv)
  }
  return {
    filename: moduleUrl(filename),
    name,
    minThreads,
    maxThreads,
    idleTimeout,
    maxQueue: maxQueue === 'auto' ? maxThreads ** 2 : maxQueue,
    concurrentTasksPerWorker,
    abortGracePeriod,
    workerOptions: { resourceLimits, execArgv, env, workerData },
  }
}

module.exports = { normalize }
