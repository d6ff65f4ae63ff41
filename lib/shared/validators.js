'use strict'

const { invalidArgType, outOfRange } = require('./errors')

function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value)
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value)
}

function validateInteger(value, name, min, max) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value)
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value)
}

function validateAbortSignal(value, name) {
  if (!(value instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', value)
}

/** `object[key]` if `object` has it as its own property; never what its prototype chain holds. */
function ownProperty(object, key) {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

module.exports = { ownProperty, validateAbortSignal, validateFunction, validateInteger, validateObject }
