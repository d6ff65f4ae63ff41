'use strict'

// Every check of an argument or option baton makes in JS, with Node's error codes.

const { invalidArgType, outOfRange } = require('./errors')

function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value)
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value)
}

/** An object that is not an array: options, or a record of named values. */
function validateRecord(value, name) {
  if (Array.isArray(value)) throw invalidArgType(name, 'of type object', value)
  validateObject(value, name)
}

function validateString(value, name) {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
}

function validateBoolean(value, name) {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value)
}

function validateInteger(value, name, min, max) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value)
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value)
}

/** A count with no limit when `Infinity`. */
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

function validateAbortSignal(value, name) {
  if (!(value instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', value)
}

/** A new array of the own elements of `value`, each a string (a hole is not one). */
function validateStringArray(value, name) {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value)
  const strings = []
  for (let i = 0; i < value.length; i++) {
    const item = Object.hasOwn(value, i) ? value[i] : undefined
    validateString(item, `${name}[${i}]`)
    strings.push(item)
  }
  return strings
}

/** Cannot be cloned: cloning it with `transfer` checks the list alone, and moves nothing. */
const PROBE = Symbol('baton.transferProbe')
let probeMessage
try {
  structuredClone(PROBE)
} catch (error) {
  probeMessage = error.message
}

/** What postMessage can transfer besides ArrayBuffers: a MessagePort, a FileHandle, a web stream. */
function isTransferable(item) {
  if (item === null || typeof item !== 'object' || item instanceof SharedArrayBuffer || ArrayBuffer.isView(item)) return false
  try {
    structuredClone(PROBE, { transfer: [item] })
  } catch (error) {
    return error.message === probeMessage
  }
  return false
}

/**
 * A transferList as postMessage takes it, with its typed arrays' and DataViews' buffers
 * in their place (once each). postMessage itself reports what is wrong with a buffer
 * (a duplicate, detached, a pooled Buffer's) when the task is sent.
 */
function validateTransferList(transferList, name) {
  if (!Array.isArray(transferList)) throw invalidArgType(name, 'an instance of Array', transferList)
  const buffers = []
  const viewed = []
  for (let i = 0; i < transferList.length; i++) {
    // Own elements only: a hole must not read a polluted Array.prototype.
    const item = Object.hasOwn(transferList, i) ? transferList[i] : undefined
    if (item instanceof ArrayBuffer) buffers.push(item)
    else if (ArrayBuffer.isView(item) && item.buffer instanceof ArrayBuffer) viewed.push(item.buffer)
    else if (isTransferable(item)) buffers.push(item)
    else throw invalidArgType(`${name}[${i}]`, 'an instance of ArrayBuffer, TypedArray, DataView, MessagePort, or another transferable object', item)
  }
  // Several views of one buffer name it once; a buffer listed twice is postMessage's error.
  for (const buffer of viewed) if (!buffers.includes(buffer)) buffers.push(buffer)
  return buffers
}

/** `object[key]` if `object` has it as its own property; never what its prototype chain holds. */
function ownProperty(object, key) {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

module.exports = {
  ownProperty,
  validateAbortSignal,
  validateBoolean,
  validateCount,
  validateDelay,
  validateFunction,
  validateInteger,
  validateObject,
  validateRecord,
  validateString,
  validateStringArray,
  validateTransferList,
}
