'use strict'

// The current context of every baton storage lives in one frame, moved by the
// carrier (./engine) through every async boundary Node knows (promises, timers, I/O,
// AsyncResource, napi_async_init). However many baton storages there are, Node sees
// one: on 20/22 an await pays one hook pass, on 24/26 a run() copies a frame with one
// entry for baton.
//
// A frame is a linked list that never changes while anything holds it: each
// run()/enterWith() pushes one node in front of the current frame, in constant time.
// A storage finds its entry by walking from the front, and remembers the last frame it
// read (see AsyncLocalStorage), so a repeated getStore() in the same frame is one
// comparison.

/** Marks a storage as absent in a frame (exit(), disable()). */
const ABSENT = Symbol('baton.absent')

class Frame {
  constructor(storage, value, parent) {
    this.storage = storage
    this.value = value
    this.parent = parent
  }
}

/**
 * Counts the moments a frame may have come to be held beyond the run() that made it:
 * captured by a new async resource, cached by a storage other than the one that runs
 * it, or put under an entered frame. While it does not move, nothing but that run()
 * holds its frame, which the hooks engine then reuses for the next run().
 */
const captures = { count: 0 }

/** What a new front entry of `storage` goes in front of: an entry of the same storage at the front is replaced. */
function below(frame, storage) {
  return frame !== undefined && frame.storage === storage ? frame.parent : frame
}

/**
 * `frame` with `storage = value` in front, and no other entry of `storage`: a frame
 * holds each storage once, so that alternating enterWith()s, or an enterWith() inside
 * a run() of another storage, cannot grow it without bound (the entries in front of
 * the old one are copied, as frames never change while held).
 */
function push(frame, storage, value) {
  return new Frame(storage, value, without(below(frame, storage), storage))
}

/** `frame` without its entry of `storage`, if it has one. */
function without(frame, storage) {
  let node = frame
  while (node !== undefined && node.storage !== storage) node = node.parent
  if (node === undefined) return frame
  const front = []
  for (let copy = frame; copy !== node; copy = copy.parent) front.push(copy)
  let rest = node.parent
  for (let i = front.length - 1; i >= 0; i--) rest = new Frame(front[i].storage, front[i].value, rest)
  return rest
}

/** The value `storage` has in `frame`, or ABSENT. */
function valueIn(frame, storage) {
  for (let node = frame; node !== undefined; node = node.parent) {
    if (node.storage === storage) return node.value
  }
  return ABSENT
}

/**
 * The frame a run() of `storage` leaves when it returns, `ran` being the frame it
 * entered: `previous` again, unless something entered a new frame inside it
 * (`enterWith`, `withScope`, `disable` of any storage). That one stays, as on Node, and
 * only `storage` gets back the value it had in `previous`.
 */
function afterRun(current, ran, previous, storage) {
  return current === ran ? previous : push(current, storage, valueIn(previous, storage))
}

module.exports = { ABSENT, Frame, afterRun, below, captures, push, valueIn }
