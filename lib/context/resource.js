'use strict'

// baton's AsyncResource: Node's own (real async ids, async_hooks events, the context
// captured at construction, which includes every baton storage through the carrier),
// listed in baton's registry until destroyed or collected, with one behaviour on
// Node 20-26 where Node's lines differ.

const { AsyncResource: NodeAsyncResource } = require('node:async_hooks')
const EventEmitter = require('node:events')
const { validateFunction, validateObject } = require('../shared/validators')
const { isHooksEngine } = require('./engine')
const { carrier } = require('./frame')
const registry = require('./registry')

class AsyncResource extends NodeAsyncResource {
  #entry

  constructor(type, options) {
    super(type, options)
    if (!engineChosen) chooseEngineStrategy()
    const manual = typeof options === 'object' && options !== null && Boolean(options.requireManualDestroy)
    this.#entry = registry.add(this, this.asyncId(), this.triggerAsyncId(), type, manual)
  }

  /**
   * Emits `destroy` and leaves the registry. A second call does nothing: Node's docs
   * say it throws, Node 20-26 emit `destroy` twice; baton emits it once.
   */
  emitDestroy() {
    if (!this.#entry.removed) {
      registry.remove(this.#entry)
      super.emitDestroy()
    }
    return this
  }

  /**
   * `fn` bound to this resource's scope; `this` inside is `thisArg`, or the caller's
   * `this` when `thisArg` is undefined. The same on every Node line: `length` is
   * `fn.length`, and no deprecated `asyncResource` property (removed in Node 25).
   */
  bind(fn, thisArg) {
    validateFunction(fn, 'fn')
    const resource = this
    const bound =
      thisArg === undefined
        ? function bound(...args) {
            return resource.runInAsyncScope(fn, this, ...args)
          }
        : (...args) => resource.runInAsyncScope(fn, thisArg, ...args)
    Object.defineProperties(bound, {
      length: { value: fn.length, configurable: true },
      name: { value: thisArg === undefined ? 'bound' : 'bound runInAsyncScope', configurable: true },
    })
    return bound
  }

  static bind(fn, type, thisArg) {
    validateFunction(fn, 'fn')
    return new AsyncResource(type || fn.name || 'bound-anonymous-fn').bind(fn, thisArg)
  }
}

let engineChosen = false

function chooseEngineStrategy() {
  engineChosen = true
  if (!isHooksEngine()) return
  // On the hooks engine an enterWith() inside runInAsyncScope() would stay on the
  // resource for its later calls; baton behaves as AsyncContextFrame does and puts
  // the resource's own context back.
  const runInAsyncScope = NodeAsyncResource.prototype.runInAsyncScope
  AsyncResource.prototype.runInAsyncScope = function (fn, thisArg, ...args) {
    return runInAsyncScope.call(this, restoringContext, undefined, fn, thisArg, args)
  }
}

function restoringContext(fn, thisArg, args) {
  const own = carrier.getStore()
  try {
    return Reflect.apply(fn, thisArg, args)
  } finally {
    if (carrier.getStore() !== own) carrier.enterWith(own)
  }
}

/**
 * An EventEmitter whose listeners run in the context where the emitter was created,
 * and which is a baton AsyncResource (listed in the registry).
 */
class EventEmitterAsyncResource extends EventEmitter {
  #resource

  constructor(options = {}) {
    if (typeof options === 'string') options = { name: options }
    validateObject(options, 'options')
    super(options)
    const { name = new.target.name, triggerAsyncId, requireManualDestroy } = options
    this.#resource = new AsyncResource(name, { triggerAsyncId, requireManualDestroy })
  }

  emit(event, ...args) {
    return this.#resource.runInAsyncScope(super.emit, this, event, ...args)
  }

  emitDestroy() {
    this.#resource.emitDestroy()
  }

  // Getters, as on Node's EventEmitterAsyncResource.
  get asyncId() {
    return this.#resource.asyncId()
  }

  get triggerAsyncId() {
    return this.#resource.triggerAsyncId()
  }

  get asyncResource() {
    return this.#resource
  }
}

module.exports = { AsyncResource, EventEmitterAsyncResource }
