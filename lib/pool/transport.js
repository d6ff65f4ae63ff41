'use strict'

// What crosses between the main thread and a pool worker, as bytes the native queue
// can hold: `v8.serialize`, the structured clone algorithm that postMessage uses, or,
// for a plain value with many entries, JSON that JSON.parse reads back as the same. What
// that format cannot hold (a SharedArrayBuffer, which postMessage shares) or must not
// copy (buffers that move) goes by postMessage on the worker's side channel instead
// (side-channel.js), and the bytes are a marker for it. Errors are encoded by hand,
// because structured cloning drops what users rely on across the thread boundary: a
// custom class's name, `cause` chains, own properties such as `code`.

const { DefaultSerializer, deserialize, serialize } = require('node:v8')
const { isArrayBufferView, isNativeError, isSharedArrayBuffer } = require('node:util').types
const { errorNotCloneable, storeNotCloneable } = require('../shared/errors')
const { isMovable, movedList, valueSymbol } = require('./move')
const { isMarker } = require('./side-channel')
const { LARGE, NOT_PLAIN, readValue, writeArray } = require('./wire')
const { isJson, readJsonArray, writeJsonArray } = require('./json')

/**
 * V8's format with one difference: a view on a SharedArrayBuffer fails as the buffer
 * itself does, where V8's format would copy the view's bytes, so that such a value goes
 * by postMessage, which shares it.
 */
class UnsharedSerializer extends DefaultSerializer {
  _writeHostObject(object) {
    if (isArrayBufferView(object) && isSharedArrayBuffer(object.buffer)) throw new Error('#<SharedArrayBuffer> could not be cloned.')
    return super._writeHostObject(object)
  }
}

/** `v8.serialize(value)` by UnsharedSerializer. */
function serializeUnshared(value) {
  const serializer = new UnsharedSerializer()
  serializer.writeHeader()
  serializer.writeValue(value)
  return serializer.releaseBuffer()
}

/** What encodeTask returns for a task that only postMessage can carry: postTask sends it. */
const PORTED = Symbol('baton.ported')

/**
 * What V8's format in `payload` (any Uint8Array) holds: read by wire.js if plain, else
 * by V8; or, for a marker, what was posted on `channel` (a SideChannel, or the pool's
 * SideChannels). JSON is told apart before this (decodeTask).
 */
function read(payload, channel) {
  const plain = payload.length > V8_READS_FROM ? NOT_PLAIN : readValue(payload)
  return plain === NOT_PLAIN ? readOther(payload, channel) : plain
}

/**
 * A value whose first object has this many entries or more goes as JSON, if JSON can
 * hold it: V8's JSON.parse reads a 1 KB JSON-like object in 57k instructions, where
 * V8's deserializer takes 90k (callgrind, Node 20). Here the two paths cost about the
 * same (8 small values: 16.0k instructions written and read as JSON, 17.2k by wire.js);
 * below, wire.js is cheaper (`{ a, b }`: 7.7k against 8.5k as JSON).
 */
const JSON_FROM = 8

/**
 * `values` as JSON if JSON holds it exactly, else in V8's format by wire.js; NOT_PLAIN
 * if neither takes it. `values` for JSON is `json()`: the envelope with what JSON
 * cannot hold of it replaced.
 */
function writePlain(values, json) {
  const plain = writeArray(values, JSON_FROM)
  if (plain !== LARGE) return plain
  const text = writeJsonArray(json())
  // Plain to wire.js, but for JSON (an undefined, -0, NaN): getters before that part run again.
  return text !== NOT_PLAIN ? text : writeArray(values)
}

/**
 * From this many bytes on, V8 reads a payload faster than wire.js does (callgrind,
 * Node 20: a 1 KB JSON-like object costs 114k instructions there, 81k in V8), and
 * the general path gives the same values.
 */
const V8_READS_FROM = 256

/** What `payload` holds when it is not plain: see read(). */
function readOther(payload, channel) {
  if (isMarker(payload)) return channel.take(payload)
  return deserialize(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength))
}

/** V8's format refused a value, and postMessage may take it (a SharedArrayBuffer). */
function isCloneFailure(error) {
  return cloneError(error) !== error
}

function envelope(task, name, filename, stores) {
  return stores === undefined ? [task, name, filename] : [task, name, filename, ...stores]
}

/**
 * A task: `[task, name, filename, ...stores]`, the value, the handler's name, its
 * module's file URL (undefined for the pool's own), and the marked stores to enter as
 * `storage name, store` pairs (see lib/context/carried.js); PORTED for a moved task
 * (move()), or one V8's format cannot hold but postMessage may. A store that cannot be
 * cloned is named in the error: nothing is silently dropped.
 */
function encodeTask(task, name, filename, stores) {
  const values = envelope(task, name, filename, stores)
  try {
    // JSON has no undefined: a name or file left out is null there (decodeTask).
    const plain = writePlain(values, () => envelope(task, name ?? null, filename ?? null, stores))
    if (plain !== NOT_PLAIN) return plain
    // A moved task is never plain: a plain task pays nothing for this.
    return isMovable(task) ? PORTED : serializeUnshared(values)
  } catch (error) {
    if (isCloneFailure(error)) return PORTED
    if (stores === undefined) throw cloneError(error)
    try {
      serialize(task)
    } catch (taskError) {
      throw cloneError(taskError) // the task's own value fails, not a store
    }
    throwForStores(stores, serialize)
    throw cloneError(error)
  }
}

/** Throws ERR_BATON_STORE_NOT_CLONEABLE, naming the storage, for the first store that `clone` refuses. */
function throwForStores(stores, clone) {
  for (let i = 0; i < (stores?.length ?? 0); i += 2) {
    try {
      clone(stores[i + 1])
    } catch (cause) {
      throw storeNotCloneable(stores[i], ' into a worker', cause)
    }
  }
}

/**
 * `v8.serialize` reports a value it cannot clone with a plain Error; postMessage and
 * structuredClone, which users know, with a DataCloneError. Anything else (a throwing
 * getter, say) is the value's own error and stays as it is.
 */
function cloneError(error) {
  // V8's own errors only: anything else may be hostile, and is left as it is.
  if (!isNativeError(error) || Object.getPrototypeOf(error) !== Error.prototype) return error
  const message = Object.getOwnPropertyDescriptor(error, 'message')?.value
  if (typeof message !== 'string' || !/(could not|cannot) be cloned/.test(message)) return error
  return new DOMException(message, 'DataCloneError')
}

/**
 * Sends a task by `post(value, transferList)` (a side channel's, which returns its
 * marker), moving `transferList`. Throws postMessage's error, moving nothing; a store
 * that cannot be cloned is named, as by encodeTask.
 */
function postTask(post, task, name, filename, stores, transferList) {
  try {
    return post(envelope(task, name, filename, stores), transferList)
  } catch (error) {
    // Stores first: unlike the task, they never hold what only a transfer list lets through.
    throwForStores(stores, structuredClone)
    throw error
  }
}

/** `[task, name, filename, stores]`, `stores` undefined when the task carries none. */
function decodeTask(payload, channel) {
  if (isJson(payload)) {
    const envelope = readJsonArray(payload)
    const stores = envelope.length > 3 ? envelope.slice(3) : undefined
    return [envelope[0], envelope[1] ?? undefined, envelope[2] ?? undefined, stores]
  }
  const envelope = read(payload, channel)
  return envelope.length > 3 ? [envelope[0], envelope[1], envelope[2], envelope.slice(3)] : envelope
}

const OK = 0
const THREW = 1

/**
 * Never throws: a value that cannot be sent becomes the error that says why. A moved
 * value (move()) and one that only postMessage can carry go on the worker's `channel`,
 * under the task's `id`.
 */
function encodeValue(value, channel, id) {
  try {
    const values = [OK, value]
    const plain = writePlain(values, () => values)
    if (plain !== NOT_PLAIN) return plain
    // A moved value is never plain: a plain result pays nothing for this.
    if (isMovable(value)) return channel.post([OK, value[valueSymbol]], movedList(value), id)
    return serializeUnshared([OK, value])
  } catch (error) {
    if (!isCloneFailure(error)) return encodeThrown(error)
  }
  try {
    return channel.post([OK, value], undefined, id)
  } catch (error) {
    return encodeThrown(cloneError(error))
  }
}

/**
 * Never throws, or the task would be lost inside the worker (and the other tasks of its
 * batch with it). The thrown value as it is; else without its own properties and with
 * what cannot be cloned replaced; else, if reading it throws (a getter, a Proxy's trap)
 * or it is not an error baton can encode, an ERR_BATON_ERROR_NOT_CLONEABLE that says what.
 */
function encodeThrown(thrown) {
  try {
    return serialize([THREW, encodeError(thrown)])
  } catch {}
  try {
    return serialize([THREW, encodeError(thrown, false)])
  } catch (problem) {
    return serialize([THREW, encodeError(errorNotCloneable(describe(problem)))])
  }
}

/** What `problem` says, whatever it is: it may itself be a hostile value. */
function describe(problem) {
  try {
    if (problem instanceof Error && typeof problem.message === 'string') return problem.message
    return String(problem)
  } catch {
    return 'reading it threw a value that cannot be described'
  }
}

/**
 * A task's outcome as the main thread reads it.
 * @typedef {{ ok: true, value: unknown } | { ok: false, error: unknown }} Outcome
 */

/**
 * The outcome in `bytes` from `start` to `end`: the whole of it, or one of a batch
 * (PoolCore's onSettled), read in place if plain.
 * @returns {Outcome}
 */
function decodeOutcome(bytes, channels, start = 0, end = bytes.length) {
  let envelope = end - start > V8_READS_FROM ? NOT_PLAIN : readValue(bytes, start, end)
  if (envelope === NOT_PLAIN) envelope = isJson(bytes, start) ? readJsonArray(bytes, start, end) : readOther(bytes.subarray(start, end), channels)
  const [kind, value] = envelope
  return kind === OK ? { ok: true, value } : { ok: false, error: decodeError(value) }
}

/** The outcome of a task settled already: what it posted on a side channel is dropped now, not held. */
function discardOutcome(bytes, channels, start, end) {
  const payload = bytes.subarray(start, end)
  if (!isMarker(payload)) return
  try {
    channels.take(payload)
  } catch {}
}

const builtins = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError, DOMException }

/** Deeper `cause` chains are not errors a task means to send. */
const MAX_CAUSES = 64

/**
 * `withProperties` false: only what always clones. Own properties are left out, and a
 * thrown value or cause that cannot be cloned is replaced by the DataCloneError that
 * says why. Throws when a field cannot be read or is not what an error has.
 */
function encodeError(error, withProperties = true, causes = []) {
  if (!(error instanceof Error)) {
    const problem = withProperties ? undefined : cloneProblem(error)
    if (problem === undefined) return { thrown: error }
    error = problem
  }
  if (causes.includes(error)) throw new TypeError('its cause chain is cyclic')
  if (causes.length >= MAX_CAUSES) throw new TypeError(`its cause chain is longer than ${MAX_CAUSES} errors`)
  causes.push(error)
  const properties = withProperties ? { ...error } : undefined
  if (properties !== undefined) delete properties.cause
  const encoded = {
    className: textField(() => error.constructor?.name, 'constructor.name') ?? 'Error',
    base: builtinBase(error),
    name: textField(() => error.name, 'name'),
    message: textField(() => error.message, 'message'),
    stack: textField(() => error.stack, 'stack'),
    properties,
  }
  if ('cause' in error) encoded.cause = encodeError(error.cause, withProperties, causes)
  return encoded
}

/** A string field of an error, or undefined; else what is wrong with it, as an error. */
function textField(read, field) {
  let value
  try {
    value = read()
  } catch (thrown) {
    throw new TypeError(`reading its ${field} threw: ${describe(thrown)}`)
  }
  if (value === undefined || typeof value === 'string') return value
  throw new TypeError(`its ${field} is of type ${typeof value}, not a string`)
}

function cloneProblem(value) {
  try {
    serialize(value)
  } catch (error) {
    return cloneError(error)
  }
}

/** The nearest built-in class of `error`: a custom class arrives as that class. */
function builtinBase(error) {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = proto.constructor?.name
    if (Object.hasOwn(builtins, name) && builtins[name] === proto.constructor) return name
  }
  return 'Error'
}

function decodeError(encoded) {
  if (!Object.hasOwn(encoded, 'className')) return encoded.thrown
  const Base = Object.hasOwn(builtins, encoded.base) ? builtins[encoded.base] : Error
  let error
  if (Base === AggregateError) error = new AggregateError([], encoded.message)
  else if (Base === DOMException) error = new DOMException(encoded.message, encoded.name)
  else error = new Base(encoded.message)
  if (Object.hasOwn(encoded, 'cause')) {
    Object.defineProperty(error, 'cause', { value: decodeError(encoded.cause), writable: true, configurable: true })
  }
  // A custom class arrives as its nearest built-in, named after the class.
  const name = encoded.name === Base.name && Base.name !== encoded.className ? encoded.className : encoded.name
  if (name !== error.name) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true })
  Object.defineProperty(error, 'stack', { value: encoded.stack, writable: true, configurable: true })
  // Defined, not assigned: an own `__proto__` key stays a property, not the prototype.
  for (const key of Object.keys(encoded.properties ?? {})) {
    Object.defineProperty(error, key, { value: encoded.properties[key], writable: true, enumerable: true, configurable: true })
  }
  return error
}

module.exports = { PORTED, decodeOutcome, decodeTask, discardOutcome, encodeTask, encodeThrown, encodeValue, postTask }
