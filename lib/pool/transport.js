'use strict'

// What crosses between the main thread and a pool worker, as bytes the native queue
// can hold: `v8.serialize`, the structured clone algorithm that postMessage uses.
// Errors are encoded by hand, because structured cloning drops what users rely on
// across the thread boundary: a custom class's name, `cause` chains, own properties
// such as `code`.

const { deserialize, serialize } = require('node:v8')
const { nodeError } = require('../shared/errors')
const { NOT_PLAIN, readValue, writeArray } = require('./wire')

/** `values` (an array baton built) in V8's format: by wire.js if plain, else by V8. */
function write(values) {
  const plain = writeArray(values)
  return plain === NOT_PLAIN ? serialize(values) : plain
}

/** What V8's format in `payload` holds: read by wire.js if plain, else by V8. */
function read(payload) {
  const plain = readValue(payload)
  return plain === NOT_PLAIN ? deserialize(payload) : plain
}

/**
 * A task: `[task, name, ...stores]`, the value, the handler's name, and the marked
 * stores to enter as `storage name, store` pairs (see lib/context/workers.js). A store
 * that cannot be cloned is named in the error: nothing is silently dropped.
 */
function encodeTask(task, name, stores) {
  try {
    return write(stores === undefined ? [task, name] : [task, name, ...stores])
  } catch (error) {
    if (stores === undefined) throw cloneError(error)
    try {
      serialize(task)
    } catch (taskError) {
      throw cloneError(taskError) // the task's own value fails, not a store
    }
    for (let i = 0; i < stores.length; i += 2) {
      try {
        serialize(stores[i + 1])
      } catch (cause) {
        const message = `The store of the storage '${stores[i]}' cannot be cloned into a worker: ${cause.message}`
        throw nodeError(TypeError, 'ERR_BATON_STORE_NOT_CLONEABLE', message, { cause })
      }
    }
    throw cloneError(error)
  }
}

/**
 * `v8.serialize` reports a value it cannot clone with a plain Error; postMessage and
 * structuredClone, which users know, with a DataCloneError. Anything else (a throwing
 * getter, say) is the value's own error and stays as it is.
 */
function cloneError(error) {
  if (error?.constructor !== Error || !/(could not|cannot) be cloned/.test(error.message)) return error
  return new DOMException(error.message, 'DataCloneError')
}

/** `[task, name, stores]`, `stores` undefined when the task carries none. */
function decodeTask(payload) {
  const envelope = read(payload)
  return envelope.length > 2 ? [envelope[0], envelope[1], envelope.slice(2)] : envelope
}

const OK = 0
const THREW = 1

function encodeValue(value) {
  try {
    return write([OK, value])
  } catch (error) {
    return encodeThrown(cloneError(error))
  }
}

function encodeThrown(thrown) {
  try {
    return serialize([THREW, encodeError(thrown)])
  } catch {
    // Something in it cannot be cloned: keep what always can. Never throws, or the
    // task would be lost inside the worker.
    return serialize([THREW, encodeError(thrown, false)])
  }
}

/** `{ ok: true, value }` or `{ ok: false, error }`. */
function decodeOutcome(payload) {
  const [kind, value] = read(payload)
  return kind === OK ? { ok: true, value } : { ok: false, error: decodeError(value) }
}

const builtins = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError, DOMException }

/**
 * `withProperties` false: only what always clones. Own properties are left out, and a
 * thrown value or cause that cannot be cloned is replaced by the DataCloneError that
 * says why.
 */
function encodeError(error, withProperties = true) {
  if (!(error instanceof Error)) {
    const problem = withProperties ? undefined : cloneProblem(error)
    if (problem === undefined) return { thrown: error }
    error = problem
  }
  const properties = withProperties ? { ...error } : undefined
  if (properties !== undefined) delete properties.cause
  const encoded = {
    className: error.constructor?.name ?? 'Error',
    base: builtinBase(error),
    name: error.name,
    message: error.message,
    stack: error.stack,
    properties,
  }
  if ('cause' in error) encoded.cause = encodeError(error.cause, withProperties)
  return encoded
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
  if (!('className' in encoded)) return encoded.thrown
  const Base = builtins[encoded.base]
  let error
  if (Base === AggregateError) error = new AggregateError([], encoded.message)
  else if (Base === DOMException) error = new DOMException(encoded.message, encoded.name)
  else error = new Base(encoded.message)
  if ('cause' in encoded) {
    Object.defineProperty(error, 'cause', { value: decodeError(encoded.cause), writable: true, configurable: true })
  }
  // A custom class arrives as its nearest built-in, named after the class.
  const name = encoded.name === Base.name && Base.name !== encoded.className ? encoded.className : encoded.name
  if (name !== error.name) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true })
  Object.defineProperty(error, 'stack', { value: encoded.stack, writable: true, configurable: true })
  Object.assign(error, encoded.properties)
  return error
}

module.exports = { decodeOutcome, decodeTask, encodeError, decodeError, encodeTask, encodeThrown, encodeValue }
