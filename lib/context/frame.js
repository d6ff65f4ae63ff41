'use strict'

// The current context of every baton storage lives in one frame, moved by the
// carrier (./engine) through every async boundary Node knows (promises, timers, I/O,
// AsyncResource, napi_async_init). However many baton storages there are, Node sees
// one: on the async_hooks engine an await pays one hook pass, on the AsyncContextFrame
// engine a run() copies a frame with one entry for baton.
//
// A frame is a linked list that never changes while anything holds it: each
// run()/enterWith() pushes one node in front of the current frame, in constant time.
// A storage finds its entry by walking from the front, and remembers the last frame it
// read (see AsyncLocalStorage), so a repeated getStore() in the same frame is one
// comparison.

/** Marks a storage as absent in a frame (exit()). */
const ABSENT = Symbol('baton.absent')

class Frame {
  constructor(storage, value, parent) {
    this.storage = storage
    this.value = value
    this.parent = parent
    // Set on the frame a run() entered, while the run lasts: what the engine's leave()
    // needs, so that run() keeps this frame as its one local (see ./engine).
    this.enteredOn = undefined
    this.enteredFrom = undefined
    this.capturesThen = 0
  }
}

/** A frame with no storage in it, where a frame object is needed. */
const EMPTY = new Frame(undefined, ABSENT, undefined)

/** Whether `frame` holds no storage: none at all, or EMPTY. */
function isEmpty(frame) {
  return frame === undefined || frame.storage === undefined
}

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

/** The value `storage` has in `frame`, or ABSENT. */
function valueIn(frame, storage) {
  for (let node = frame; node !== undefined; node = node.parent) {
    if (node.storage === storage) return node.value
  }
  return ABSENT
}

/**
 * The frame a run() leaves when it returns, `ran` being the frame it entered: the frame
 * it was entered from again, unless something entered a new frame inside it
 * (`enterWith`, `withScope`, `disable` of any storage). That one stays, as on Node, and
 * only the run's storage gets back the value it had before (no entry where it had none).
 */
function afterRun(current, ran) {
  const previous = ran.enteredFrom
  if (current === ran) return previous
  const storage = ran.storage
  const value = valueIn(previous, storage)
  return value === ABSENT && valueIn(current, storage) === ABSENT ? current : push(current, storage, value)
}

// disable() changes the current context in place, as Node's AsyncContextFrame does:
// every callback that captured that very frame object loses the storage. A frame's
// nodes are shared with the frames pushed onto it, which must keep their view, so the
// frame itself is left as it is and recorded here as replaced by a copy without the
// storage. Reads of the current frame follow the replacements (resolve), but only once
// some disable() made one: until then the engines read frames directly.
const replacements = new WeakMap()

/** What `frame` stands for as the current context: itself, or what disable() replaced it by. */
function resolve(frame) {
  for (let next = replacements.get(frame); next !== undefined; next = replacements.get(frame)) frame = next
  return frame
}

/** `frame` without any entry of `storage`: the nodes above its deepest one are copied, the rest shared. */
function without(frame, storage) {
  let deepest
  for (let node = frame; node !== undefined; node = node.parent) if (node.storage === storage) deepest = node
  if (deepest === undefined) return frame
  const kept = []
  for (let node = frame; node !== deepest; node = node.parent) if (node.storage !== storage) kept.push(node)
  let copy = deepest.parent
  for (let i = kept.length - 1; i >= 0; i--) copy = new Frame(kept[i].storage, kept[i].value, copy)
  return copy
}

/**
 * Replaces `frame` (current and resolved) by a copy with no entry of `storage` at all,
 * so that the copy keeps nothing of a storage that is dropped.
 */
function replaceWithout(frame, storage) {
  const copy = without(frame, storage) ?? EMPTY
  replacements.set(frame, copy)
  return copy
}

module.exports = { ABSENT, EMPTY, Frame, afterRun, below, isEmpty, push, replaceWithout, resolve, valueIn }
