'use strict'

// async-baton/opentelemetry: an OpenTelemetry ContextManager on a baton storage, so the
// active context costs the same however many other storages the app has, survives
// baton's native callbacks, and crosses into WorkerPool workers. An OpenTelemetry
// Context cannot be cloned, so what crosses is what W3C propagation carries between
// services: the span context (traceparent, tracestate) and the baggage.
//
// Only this file needs @opentelemetry/api (a peer dependency): async-baton itself
// loads without it.

const { EventEmitter } = require('node:events')
const api = require('@opentelemetry/api')
const { AsyncLocalStorage } = require('../context/storage')
const { validateFunction } = require('../shared/validators')
const carried = require('../context/carried')

/** The name the active context crosses under: into pool workers and in exportContext(). */
const NAME = 'async-baton/opentelemetry'

/** Methods that add a listener; Node's once() and prependOnceListener() add theirs through on() and prependListener(). */
const ADDERS = ['addListener', 'on', 'once', 'prependListener', 'prependOnceListener']
const REMOVERS = ['removeListener', 'off']

class BatonContextManager {
  #storage = new AsyncLocalStorage({ name: NAME })
  /** Stops carrying this manager's context into workers, while it does. */
  #stopCarrying = undefined
  /** Emitters bound by this manager: a second bind() leaves them as they are. */
  #emitters = new WeakSet()

  active() {
    return this.#storage.getStore() ?? api.ROOT_CONTEXT
  }

  with(context, fn, thisArg, ...args) {
    validateFunction(fn, 'fn')
    return this.#storage.run(context, Reflect.apply, fn, thisArg, args)
  }

  /**
   * `target` run in `context`: a function, or an EventEmitter whose listeners added
   * from now on run in it (and can be removed as they were given).
   */
  bind(context, target) {
    if (target instanceof EventEmitter) return this.#bindEmitter(context, target)
    if (typeof target === 'function') return this.#bindFunction(context, target)
    return target
  }

  /**
   * Makes `context` active for the rest of the current synchronous execution and what
   * it starts, until the returned scope is disposed (`using`); prefer with() in async
   * functions, where it would leak into the caller before the first `await`.
   */
  attach(context) {
    return this.#storage.withScope(context)
  }

  /** Also makes this manager the one whose active span context and baggage go into pool workers (the last one enabled in a thread). */
  enable() {
    this.#stopCarrying ??= carried.carry(this.#storage, NAME, encode, decode)
    return this
  }

  disable() {
    this.#stopCarrying?.()
    this.#stopCarrying = undefined
    this.#storage.disable()
    return this
  }

  #bindFunction(context, target) {
    const manager = this
    const bound = function (...args) {
      return manager.with(context, target, this, ...args)
    }
    Object.defineProperty(bound, 'length', { value: target.length, configurable: true })
    return bound
  }

  #bindEmitter(context, emitter) {
    if (this.#emitters.has(emitter)) return emitter
    this.#emitters.add(emitter)
    // One bound function per listener, reused however often it is added: the emitter's
    // own bookkeeping (duplicates, once, removal order) then applies to it unchanged.
    const boundOf = new WeakMap()
    const made = new WeakSet()
    const bindListener = (listener) => {
      let bound = boundOf.get(listener)
      if (bound === undefined) {
        bound = this.#bindFunction(context, listener)
        boundOf.set(listener, bound)
        made.add(bound)
      }
      return bound
    }
    for (const method of ADDERS) {
      const add = emitter[method]
      if (typeof add !== 'function') continue
      emitter[method] = function (event, listener) {
        // Node's once() wrapper around a listener bound here, or one bound already.
        if (typeof listener !== 'function' || made.has(listener) || made.has(listener.listener)) return add.call(this, event, listener)
        return add.call(this, event, bindListener(listener))
      }
    }
    for (const method of REMOVERS) {
      const remove = emitter[method]
      if (typeof remove !== 'function') continue
      emitter[method] = function (event, listener) {
        return remove.call(this, event, (typeof listener === 'function' && boundOf.get(listener)) || listener)
      }
    }
    return emitter
  }
}

/** The W3C carrier of `context`'s span context and baggage, or undefined when it has neither. */
function encode(context) {
  const carried = {}
  const spanContext = api.trace.getSpanContext(context)
  if (spanContext !== undefined && api.isSpanContextValid(spanContext)) {
    const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')
    carried.traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`
    const traceState = spanContext.traceState?.serialize()
    if (traceState) carried.tracestate = traceState
  }
  const entries = api.propagation.getBaggage(context)?.getAllEntries() ?? []
  if (entries.length > 0) {
    carried.baggage = entries
      .map(([key, { value, metadata }]) => {
        const member = `${encodeURIComponent(key)}=${encodeURIComponent(value)}`
        const properties = metadata?.toString()
        return properties ? `${member};${properties}` : member
      })
      .join(',')
  }
  return carried.traceparent === undefined && carried.baggage === undefined ? undefined : carried
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/**
 * The context a W3C carrier describes: the span context as a remote parent, the
 * baggage. Anything malformed is left out, as a propagator would: a task or job never
 * fails for its trace headers.
 */
function decode(carried) {
  let context = api.ROOT_CONTEXT
  if (carried === null || typeof carried !== 'object') return context
  const match = TRACEPARENT.exec(ownString(carried, 'traceparent') ?? '')
  // Version ff is invalid; version 00 has exactly four fields; later ones may have more.
  if (match !== null && match[1] !== 'ff' && !(match[1] === '00' && match[5] !== undefined)) {
    const spanContext = { traceId: match[2], spanId: match[3], traceFlags: Number.parseInt(match[4], 16), isRemote: true }
    const traceState = ownString(carried, 'tracestate')
    if (traceState !== undefined) spanContext.traceState = api.createTraceState(traceState)
    if (api.isSpanContextValid(spanContext)) context = api.trace.setSpanContext(context, spanContext)
  }
  const baggage = parseBaggage(ownString(carried, 'baggage'))
  if (baggage !== undefined) context = api.propagation.setBaggage(context, baggage)
  return context
}

function parseBaggage(header) {
  if (header === undefined) return undefined
  // No prototype: a key named '__proto__' is a key like any other.
  const entries = Object.create(null)
  let any = false
  for (const member of header.split(',')) {
    const [pair, ...properties] = member.split(';')
    const at = pair.indexOf('=')
    if (at <= 0) continue
    try {
      const key = decodeURIComponent(pair.slice(0, at).trim())
      const entry = { value: decodeURIComponent(pair.slice(at + 1).trim()) }
      if (properties.length > 0) entry.metadata = api.baggageEntryMetadataFromString(properties.join(';'))
      entries[key] = entry
      any = true
    } catch {
      // A malformed escape: this member is left out.
    }
  }
  return any ? api.propagation.createBaggage(entries) : undefined
}

function ownString(object, key) {
  const value = Object.hasOwn(object, key) ? object[key] : undefined
  return typeof value === 'string' ? value : undefined
}

module.exports = { BatonContextManager }
