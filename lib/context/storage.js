'use strict'

// baton's AsyncLocalStorage: the API of node:async_hooks' class, one behaviour on both
// of Node's context engines, and a cost that does not grow with the number of storages.

const { AsyncLocalStorage: NodeAsyncLocalStorage } = require('node:async_hooks')
const { ownProperty, validateFunction, validateRecord } = require('../shared/validators')
const carrier = require('./engine')
const { ABSENT, push, valueIn } = require('./frame')
const carried = require('./carried')

/** Never a frame: the cache is empty. */
const FORGOTTEN = Symbol('baton.forgotten')
const { enter, leave } = carrier

class AsyncLocalStorage {
  #name
  #defaultValue
  // The last frame read and this storage's value in it: frames never change while
  // held, so a getStore() in the same frame is one comparison. It holds at most one
  // frame per storage, released by the next read in another context or when run()
  // returns.
  #frame = undefined
  #value

  /** Options are read as own properties only, as Node 24/26 take them: an object, not an array. */
  constructor(options = {}) {
    validateRecord(options, 'options')
    const name = ownProperty(options, 'name')
    // A template literal, as Node's: a Symbol throws its TypeError.
    this.#name = name === undefined ? '' : `${name}`
    this.#defaultValue = ownProperty(options, 'defaultValue')
    this.#value = this.#defaultValue
    // WorkerPool tasks carry this storage's store into their worker (lib/context/carried.js).
    if (ownProperty(options, 'cloneIntoWorkers')) carried.mark(this, this.#name, currentValue)
  }

  get name() {
    return this.#name
  }

  /** Binds `fn` to the current context of every storage, baton's and Node's. */
  static bind(fn) {
    validateFunction(fn, 'fn')
    return NodeAsyncLocalStorage.bind(fn)
  }

  /** Captures the current context: `(fn, ...args) => fn(...args)` run inside it. */
  static snapshot() {
    return NodeAsyncLocalStorage.snapshot()
  }

  getStore() {
    const frame = carrier.getStore()
    if (frame === this.#frame) return this.#value
    const value = valueIn(frame, this)
    carrier.cached(frame, this)
    this.#frame = frame
    this.#value = value === ABSENT ? this.#defaultValue : value
    return this.#value
  }

  /**
   * Runs `fn(...args)` with `store` current. One local, the frame the engine entered,
   * which remembers what leaving needs: a nested run() costs one small stack frame, so
   * nesting goes deeper than with Node's own run() (__test__/context-depth.test.js).
   */
  run(store, fn, ...args) {
    const frame = enter(this, store)
    try {
      // Without arguments, V8 drops the rest array altogether.
      return args.length === 0 ? fn() : fn(...args)
    } finally {
      // Let go of the frame this run made: the cache must not keep its store alive,
      // nor see the frame again once the async_hooks engine reuses it.
      this.#frame = FORGOTTEN
      leave(frame)
    }
  }

  /** Runs `fn` with this storage absent: `getStore()` gives the default value there. */
  exit(fn, ...args) {
    return this.run(ABSENT, fn, ...args)
  }

  enterWith(store) {
    carrier.enterWith(push(carrier.getStore(), this, store))
  }

  /**
   * Removes this storage from the current context in place, as Node's
   * AsyncContextFrame does: every callback that captured this same context (since the
   * last run(), enterWith() or resource entry on this path) loses the store too;
   * contexts made before or elsewhere keep theirs. The same on every Node line.
   */
  disable() {
    carrier.disable(this)
  }

  /** Enters `store` until the returned scope is disposed (`using scope = als.withScope(v)`). */
  withScope(store) {
    const frame = carrier.getStore()
    carrier.enterWith(push(frame, this, store))
    return new RunScope(this, valueIn(frame, this))
  }
}

/** `storage`'s value in the current context, or ABSENT. */
function currentValue(storage) {
  return valueIn(carrier.getStore(), storage)
}

class RunScope {
  #storage
  #previous
  #disposed = false

  constructor(storage, previous) {
    this.#storage = storage
    this.#previous = previous
  }

  /** Puts back this storage's value only: other storages keep what they have now, as on Node. */
  dispose() {
    if (this.#disposed) return
    this.#disposed = true
    carrier.enterWith(push(carrier.getStore(), this.#storage, this.#previous))
  }

  [Symbol.dispose]() {
    this.dispose()
  }
}

module.exports = { AsyncLocalStorage }
