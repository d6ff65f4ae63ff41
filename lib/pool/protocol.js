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
/** Message kinds in the batches the native core hands a worker (src/pool/worker_thread.rs). */
const RUN = 1

module.exports = { CONFIG, EXITED_LOADING, READY, RUN, UNSETTLED_LOADING }
