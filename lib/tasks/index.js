'use strict'

const binding = require('../shared/binding')
const { validateInteger, validateObject } = require('../shared/validators')
const { schedule } = require('./schedule')

const NO_ARGS = []

/** Resolves to 17 (or calls back with it): the smallest round trip through the pool. */
function performAsyncTask(callback) {
  return schedule(binding.performAsyncTask, NO_ARGS, undefined, callback)
}

/** Fails with `Error('I am a failing task')`. */
function failingTask(callback) {
  return schedule(binding.failingTask, NO_ARGS, undefined, callback)
}

/** The exact n-th Fibonacci number as a BigInt, computed on a libuv pool thread. */
function fibonacci(n, options, callback) {
  if (typeof options === 'function' && callback === undefined) {
    callback = options
    options = undefined
  }
  validateInteger(n, 'n', 0, binding.FIBONACCI_MAX_N)
  if (options !== undefined) validateObject(options, 'options')
  return schedule(binding.fibonacciTask, [n], options, callback)
}

module.exports = { failingTask, fibonacci, performAsyncTask }
