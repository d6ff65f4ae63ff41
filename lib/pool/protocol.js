'use strict'

// What the two sides of a WorkerPool agree on besides the payloads (transport.js).

/** The `worker_threads` environment-data key under which a new worker finds its configuration. */
const CONFIG = 'baton.WorkerPool'
/** What a worker posts once it has loaded the task module and attached to the core. */
const READY = 'baton.ready'
/** What a worker posts if its thread ends while loading (the module called process.exit). */
const EXITED_LOADING = 'baton.exited-loading'
/** What a worker posts instead if it ends because its loop ran dry while the task module was still evaluating. */
const UNSETTLED_LOADING = 'baton.unsettled-loading'
/** Tags the first message the pool posts to a worker: the worker's end of its MessageChannel (side-channel.js). */
const CHANNEL = 'baton.channel'
/**
 * A worker's wake cell (`atomics: 'sync'`), shared by the two sides: a count the main
 * thread bumps before it notifies a parked worker, so that a worker that read the count
 * before it parked and waits on that value cannot miss the notification.
 */
const wakeCell = () => new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT))

/** Wakes the worker parked on `cell`. */
function wake(cell) {
  Atomics.add(cell, 0, 1)
  Atomics.notify(cell, 0)
}

/** The layout of the batches the native core hands over (src/pool/mod.rs). */
const { MESSAGE_STRIDE, MessageKind, SETTLED_STRIDE } = require('../shared/binding')

module.exports = { CHANNEL, CONFIG, EXITED_LOADING, MESSAGE_STRIDE, MessageKind, READY, SETTLED_STRIDE, UNSETTLED_LOADING, wake, wakeCell }
