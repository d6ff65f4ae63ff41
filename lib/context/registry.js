'use strict'

// The JS side of the native registry (src/shared/registry.rs). Resources are listed
// in batches, so that creating one costs no N-API call: a resource is first kept in
// a list of young ones; at the end of the current job (a microtask), the young ones
// still alive are written as operations into a buffer and handed to Rust in one
// call. A resource created and destroyed within one job never reaches Rust at all.
// Resources that are not destroyed by hand leave the registry when they are
// garbage-collected (FinalizationRegistry), registered only once they outlive their job.

const binding = require('../shared/binding')

const ADD = 1
const REMOVE = 2
const OP_SIZE = 4
const BATCH = 1024

binding.registryOpen()

const typeIds = new Map()
let young = []
let ops = new Float64Array(BATCH * OP_SIZE)
let length = 0
let flushQueued = false

const collected = new FinalizationRegistry((asyncId) => {
  write(REMOVE, asyncId, 0, 0)
  queueFlush()
})

/** Registry bookkeeping of one resource: what `add` returns, what `remove` takes. */
class Entry {
  constructor(resource, asyncId, triggerAsyncId, type, manual) {
    this.resource = resource
    this.asyncId = asyncId
    this.triggerAsyncId = triggerAsyncId
    this.type = type
    this.manual = manual
    this.listed = false
    this.removed = false
  }
}

function typeId(type) {
  let id = typeIds.get(type)
  if (id === undefined) {
    id = binding.registryInternType(type)
    typeIds.set(type, id)
  }
  return id
}

function write(op, asyncId, triggerAsyncId, type) {
  if (length === ops.length) sendOps()
  ops[length] = op
  ops[length + 1] = asyncId
  ops[length + 2] = triggerAsyncId
  ops[length + 3] = type
  length += OP_SIZE
}

function sendOps() {
  if (length === 0) return
  binding.registryApply(ops.subarray(0, length))
  length = 0
}

function queueFlush() {
  if (flushQueued) return
  flushQueued = true
  queueMicrotask(flush)
}

function flush() {
  flushQueued = false
  const batch = young
  young = []
  for (const entry of batch) {
    if (entry.removed) continue
    entry.listed = true
    write(ADD, entry.asyncId, entry.triggerAsyncId, typeId(entry.type))
    if (!entry.manual) collected.register(entry.resource, entry.asyncId, entry)
    entry.resource = undefined
  }
  sendOps()
}

/** Lists a resource (after the current job). */
function add(resource, asyncId, triggerAsyncId, type, manual) {
  const entry = new Entry(resource, asyncId, triggerAsyncId, type, manual)
  // A long synchronous loop must not pile up young entries: hand them over per batch.
  if (young.push(entry) >= BATCH) flush()
  else queueFlush()
  return entry
}

/** Takes a resource off the list (emitDestroy). */
function remove(entry) {
  if (entry.removed) return
  entry.removed = true
  if (!entry.listed) return
  collected.unregister(entry)
  write(REMOVE, entry.asyncId, 0, 0)
  queueFlush()
}

/**
 * Every live baton resource and task, of every thread of the process:
 * `{ kind, thread, id, type, triggerAsyncId, since }`.
 */
function resources() {
  flush()
  return binding.registryEntries()
}

module.exports = { add, remove, resources }
