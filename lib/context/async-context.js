'use strict'

// AsyncContext.Variable and AsyncContext.Snapshot, with the TC39 proposal's API,
// on the same machinery as baton's AsyncLocalStorage.

const { AsyncLocalStorage: NodeAsyncLocalStorage } = require('node:async_hooks')
const { validateFunction, validateObject } = require('../shared/validators')
const { AsyncLocalStorage } = require('./storage')

class Variable {
  #storage

  constructor(options = {}) {
    validateObject(options, 'options')
    this.#storage = new AsyncLocalStorage(options)
  }

  get name() {
    return this.#storage.name
  }

  /** The value in the current context; `defaultValue` only where the variable has no entry. */
  get() {
    return this.#storage.getStore()
  }

  run(value, fn, ...args) {
    validateFunction(fn, 'fn')
    return this.#storage.run(value, fn, ...args)
  }
}

class Snapshot {
  // Node's snapshot captures every storage, Node's own and baton's carrier alike.
  #run = NodeAsyncLocalStorage.snapshot()

  run(fn, ...args) {
    validateFunction(fn, 'fn')
    return this.#run(fn, ...args)
  }

  /** `fn` run in the context of this call to `wrap`, with the caller's `this`. */
  static wrap(fn) {
    validateFunction(fn, 'fn')
    const run = NodeAsyncLocalStorage.snapshot()
    return function wrapped(...args) {
      return run(() => Reflect.apply(fn, this, args))
    }
  }
}

module.exports = { AsyncContext: Object.freeze({ Snapshot, Variable }) }
