'use strict'

// `move(value)`: marks a task (given to run()) or a worker's result (what its handler
// returns or resolves with) for transfer instead of a copy, as piscina's `move()`. The
// interface is piscina's: an object with the registered symbols `transferableSymbol`
// (what postMessage transfers) and `valueSymbol` (what arrives), so that objects built
// for piscina's Transferable interface move unchanged.

const { isArrayBufferView } = require('node:util').types
const { validateTransferList } = require('../shared/validators')

const transferableSymbol = Symbol.for('Piscina.transferable')
const valueSymbol = Symbol.for('Piscina.valueOf')

/**
 * What move() returns: never a plain object, so that the plain-value fast path
 * (wire.js) never takes it for one, and a plain result pays nothing to be told apart.
 */
class Movable {
  #transferable
  #value
  constructor(transferable, value) {
    this.#transferable = transferable
    this.#value = value
  }

  get [transferableSymbol]() {
    return this.#transferable
  }

  get [valueSymbol]() {
    return this.#value
  }
}

function isTransferable(value) {
  return transferableSymbol in value && valueSymbol in value
}

/**
 * A view moves its whole buffer and arrives as the same kind of view; an ArrayBuffer or
 * a MessagePort as itself; a Transferable moves what it names. Primitives and
 * functions are returned as they are: there is nothing to move.
 */
function move(value) {
  if (value === null || typeof value !== 'object' || value instanceof Movable) return value
  if (isTransferable(value)) return new Movable(value[transferableSymbol], value[valueSymbol])
  return new Movable(isArrayBufferView(value) ? value.buffer : value, value)
}

function isMovable(value) {
  return value instanceof Movable
}

/** What a moved value transfers: a Transferable may name one object or an array of them, as piscina concatenates. */
function movedList(movable) {
  const transferable = movable[transferableSymbol]
  return Array.isArray(transferable) ? transferable : [transferable]
}

/**
 * A moved task (`run(move(x))`, a PoolTask): its value is what the worker gets, and what
 * it names joins the transfer list, once even if the list names it too.
 */
function takeMoved(entry) {
  if (!isMovable(entry.task)) return
  const moved = validateTransferList(movedList(entry.task), 'task')
  const listed = entry.transferList ?? []
  entry.transferList = [...listed, ...moved.filter((item) => !listed.includes(item))]
  entry.task = entry.task[valueSymbol]
}

module.exports = { isMovable, move, movedList, takeMoved, transferableSymbol, valueSymbol }
