'use strict'

// baton's AsyncResource: Node's own (real async ids, async_hooks events, the context
// captured at construction, which includes every baton storage through the carrier),
// listed in baton's registry until destroyed or collected, with one behaviour on
// Node 20-26 where Node's lines differ.
//
// Listing costs no native call per resource: a new resource waits among the young
// ones until the end of its job (or until BATCH of them wait); only those still alive
// then are written to the registry, in one call, and watched for garbage collection.
// After its job, nothing of baton holds a resource strongly: once collected, Node emits
// its destroy within a setImmediate turn, and resources() no longer lists it.

const { AsyncResource: NodeAsyncResource } = require('node:async_hooks')
const EventEmitter = require('node:events')
const { ownProperty, validateFunction, validateObject, validateString } = require('../shared/validators')
const carrier = require('./engine')
const registry = require('./registry')

const YOUNG = 0
// Young, and requireManualDestroy: listed without a watch for its collection.
const YOUNG_MANUAL = 1
const LISTED = 2
const DESTROYED = 3

// Young resources wait in a chain from the newest, each holding the next older one and
// what listing it needs (its type; its state says whether it is manual), until the end
// of the job or until BATCH of them wait. One destroyed while it is the newest leaves
// at once, so a resource made and destroyed within a job is never walked.
// Every store goes into a young object: storing a new object into one that has lived
// long enough to be in V8's old generation (such as a list made at load) costs a write
// barrier, about 70 instructions per resource. The holder of the newest is replaced
// every RENEW resources for that reason.
const RENEW = 256
let newest = { resource: undefined }
let untilRenew = RENEW
let waiting = 0
let flushQueued = false
// The end of the job is a reaction of this promise. queueMicrotask would make a Node
// AsyncResource each time, and Node's AsyncResource code would see two kinds of
// resource instead of one.
const resolved = Promise.resolve()
// Set by AsyncResource's static block, as only the class may touch a resource's state:
// writes the young resources still alive into the registry.
let listYoung

// Listed resources that are not requireManualDestroy, by async id: resources() leaves
// out those collected already (a WeakRef is cleared by the collection itself), and the
// FinalizationRegistry, whose callback comes in some later task or not at all before
// the process exits, only releases the entries of those it was never asked about.
const watched = new Map()
const collected = new FinalizationRegistry(unlist)
// Node's own methods, not the ones a subclass may override (and make throw): the
// registry's bookkeeping runs outside any call of the user's.
const { asyncId, triggerAsyncId } = NodeAsyncResource.prototype

/** Takes a listed resource's entry out of the registry. */
function unlist(id) {
  watched.delete(id)
  registry.remove(id)
  queueFlush()
}

/**
 * Takes the entries of collected resources out of the registry. Reading a WeakRef
 * keeps its target alive to the end of the job: resources() does that to the live ones.
 */
function sweep() {
  for (const [id, ref] of watched) {
    if (ref.deref() !== undefined) continue
    collected.unregister(ref)
    watched.delete(id)
    registry.remove(id)
  }
}

function queueFlush() {
  if (flushQueued) return
  flushQueued = true
  resolved.then(flush)
}

function renewNewest() {
  newest = { resource: newest.resource }
  untilRenew = RENEW
}

function flush() {
  flushQueued = false
  listYoung()
  registry.send()
}

class AsyncResource extends NodeAsyncResource {
  #state = YOUNG
  // While young: the next older young resource, and the type to list it with.
  #older = undefined
  #type = undefined
  // The frame to put back on entry, where the engine needs it (see runInAsyncScope).
  // Initialized here, not assigned in the constructor: fields declared in the class
  // body are laid out in the object, where a field added after super() costs a
  // property store of its own (measured: about 100 instructions per resource).
  #frame = carrier.resourceFrame(this)

  constructor(type, options) {
    // Node's constructor reads the options through the prototype chain: it gets its
    // own copy of the own properties.
    const own = typeof options === 'object' && options !== null
    const manual = own ? ownProperty(options, 'requireManualDestroy') : undefined
    super(type, own ? { triggerAsyncId: ownProperty(options, 'triggerAsyncId'), requireManualDestroy: manual } : options)
    if (manual) this.#state = YOUNG_MANUAL
    this.#type = type
    if (--untilRenew === 0) renewNewest()
    this.#older = newest.resource
    newest.resource = this
    if (++waiting === registry.BATCH) flush()
    else queueFlush()
  }

  static {
    // A WeakRef keeps its target alive until the end of the job it was made in: made
    // here, at the end of the resource's job, it holds the resource no longer.
    const list = (resource) => {
      const state = resource.#state
      const type = resource.#type
      // A listed resource keeps no long type name alive.
      resource.#type = undefined
      if (state !== YOUNG && state !== YOUNG_MANUAL) return
      resource.#state = LISTED
      const id = asyncId.call(resource)
      registry.add(id, triggerAsyncId.call(resource), type)
      if (state === YOUNG_MANUAL) return
      const ref = new WeakRef(resource)
      watched.set(id, ref)
      collected.register(resource, id, ref)
    }
    listYoung = () => {
      const chain = []
      for (let resource = newest.resource; resource !== undefined; ) {
        chain.push(resource)
        // The chain must not keep older resources alive.
        const older = resource.#older
        resource.#older = undefined
        resource = older
      }
      newest.resource = undefined
      waiting = 0
      // Oldest first, as they were made.
      for (let i = chain.length - 1; i >= 0; i--) list(chain[i])
    }
  }

  /**
   * Emits `destroy` and leaves the registry. A second call does nothing: Node's docs
   * say it throws, Node 20-26 emit `destroy` twice; baton emits it once.
   */
  emitDestroy() {
    const state = this.#state
    if (state === DESTROYED) return this
    this.#state = DESTROYED
    if (newest.resource === this) {
      newest.resource = this.#older
      this.#older = this.#type = undefined
      waiting--
    } else if (state === LISTED) {
      const id = asyncId.call(this)
      const ref = watched.get(id)
      if (ref !== undefined) collected.unregister(ref)
      unlist(id)
    }
    return super.emitDestroy()
  }

  runInAsyncScope(fn, thisArg, ...args) {
    carrier.enterResource(this, this.#frame)
    // Without arguments for fn (the usual call), no spread: it copies them into a new array.
    if (args.length === 0) return super.runInAsyncScope(fn, thisArg)
    return super.runInAsyncScope(fn, thisArg, ...args)
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

/** The resource of an EventEmitterAsyncResource, which knows its emitter (as Node's). */
class EventEmitterReferencingAsyncResource extends AsyncResource {
  #eventEmitter

  constructor(eventEmitter, type, options) {
    super(type, options)
    this.#eventEmitter = eventEmitter
  }

  get eventEmitter() {
    return this.#eventEmitter
  }
}

/**
 * An EventEmitter whose listeners run in the context where the emitter was created,
 * and which is a baton AsyncResource (listed in the registry). As Node's: a string is
 * the name; the class itself needs a string `name`, a subclass defaults to its own
 * class name.
 */
class EventEmitterAsyncResource extends EventEmitter {
  #resource

  constructor(options = undefined) {
    let name
    if (typeof options === 'string') {
      name = options
      options = {}
    } else {
      name = options === undefined || options === null ? undefined : ownProperty(options, 'name')
      if (new.target === EventEmitterAsyncResource) validateString(name, 'options.name')
      if (options === undefined) options = {}
      validateObject(options, 'options')
      name ||= new.target.name
    }
    super({ captureRejections: ownProperty(options, 'captureRejections') })
    this.#resource = new EventEmitterReferencingAsyncResource(this, name, options)
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

/** Every live baton resource and task, of every thread: `{ kind, thread, id, type, triggerAsyncId, since }`. */
function resources() {
  flush()
  sweep()
  return registry.entries()
}

module.exports = { AsyncResource, EventEmitterAsyncResource, resources }
