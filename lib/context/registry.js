'use strict'

// The JS side of the native registry (src/shared/registry.rs): operations on resources
// are written into a buffer and handed to Rust in one call per batch. Which resources
// are written, and when, is decided by lib/context/resource.js.

const binding = require('../shared/binding')

const { Add: ADD, Remove: REMOVE } = binding.RegistryOp
const OP_SIZE = binding.REGISTRY_OP_STRIDE
const BATCH = 1024

// Registers this thread's env cleanup hook, which takes its entries out of the registry
// when its environment is torn down (a worker's exit): only a call with an env can.
binding.registryOpen()

const typeIds = new Map()
const ops = new Float64Array(BATCH * OP_SIZE)
let length = 0

function typeId(type) {
  let id = typeIds.get(type)
  if (id === undefined) {
    id = binding.registryInternType(type)
    typeIds.set(type, id)
  }
  return id
}

function write(op, asyncId, triggerAsyncId, type) {
  if (length === ops.length) send()
  ops[length] = op
  ops[length + 1] = asyncId
  ops[length + 2] = triggerAsyncId
  ops[length + 3] = type
  length += OP_SIZE
}

/** Hands the operations written so far to Rust. */
function send() {
  if (length === 0) return
  binding.registryApply(ops.subarray(0, length))
  length = 0
}

function add(asyncId, triggerAsyncId, type) {
  write(ADD, asyncId, triggerAsyncId, typeId(type))
}

function remove(asyncId) {
  write(REMOVE, asyncId, 0, 0)
}

/** Every live entry of every thread, after sending what is written. */
function entries() {
  send()
  return binding.registryEntries()
}

module.exports = { BATCH, add, entries, remove, send }
