'use strict'

// A worker's first message from the pool is its side channel (lib/pool/side-channel.js,
// connect()). Nearly always the message is already there when the worker looks; when
// the main thread was slower (it posts right after `new Worker`, and a loaded machine
// may run the new thread first), the worker waits for it. Here the main thread holds the
// channel back until the worker has looked and found nothing, so that it takes the
// waiting path every time. Serial: the hold patches Worker.prototype.postMessage.
const test = require('ava')
const { join } = require('node:path')
const { BroadcastChannel, Worker } = require('node:worker_threads')
const { WorkerPool, move } = require('..')
const { CHANNEL } = require('../lib/pool/protocol')
const { fixtures } = require('./pool-helpers')

const TRANSFER = join(fixtures, 'transfer.js')
const WATCH = ['--require', join(fixtures, 'channel-watch.js')]
// Starting two workers takes milliseconds; the bound only turns a worker that waits
// forever for its channel into a failure that says so, not ava's timeout.
const HANG_MS = 15_000

function bounded(promise) {
  let timer
  const hang = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the tasks did not settle within ${HANG_MS} ms: a worker still waits for its channel`)), HANG_MS)
  })
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer))
}

/**
 * While `fn` runs, each channel message a pool posts waits until its worker reports its
 * first look at its port; `first` is what the workers found, in report order.
 * `before`, if given, is posted to the worker ahead of its channel.
 */
async function holdingChannels(fn, before) {
  const post = Worker.prototype.postMessage
  const reports = new BroadcastChannel('baton-channel-fallback')
  const first = []
  const held = new Map()
  reports.onmessage = ({ data }) => {
    first.push(data.found)
    held.get(data.threadId)()
  }
  Worker.prototype.postMessage = function (message, transferList) {
    if (!Array.isArray(message) || message[0] !== CHANNEL) return post.call(this, message, transferList)
    held.set(this.threadId, () => {
      if (before !== undefined) post.call(this, before)
      post.call(this, message, transferList)
    })
  }
  try {
    return { value: await fn(), first }
  } finally {
    Worker.prototype.postMessage = post
    reports.close()
  }
}

test.serial('a worker that finds no channel yet waits for it, and then carries plain and moved tasks both ways', async (t) => {
  const { first } = await holdingChannels(async () => {
    const pool = new WorkerPool({ filename: TRANSFER, minThreads: 2, maxThreads: 2, execArgv: WATCH })
    try {
      const buffer = new ArrayBuffer(8)
      new Uint8Array(buffer)[0] = 7
      // Through the channel the worker waited for: moved in, and moved back.
      const results = await bounded(Promise.all([
        pool.run(buffer, { name: 'describe', transferList: [buffer] }),
        pool.run(move(new Uint8Array([9, 8])), { name: 'moveBack' }),
        pool.run(new Uint8Array([5]), { name: 'describe' }),
      ]))
      t.deepEqual(results[0], { type: 'ArrayBuffer', length: 8, first: 7 })
      t.is(buffer.byteLength, 0)
      t.deepEqual([...results[1]], [9, 8])
      t.deepEqual(results[2], { type: 'Uint8Array', length: 1, first: 5 })
    } finally {
      await pool.destroy()
    }
  })
  // Both workers looked before their channel was posted, so both took the waiting path.
  t.deepEqual(first, [false, false])
})

test.serial('a worker whose first message is not its channel fails to start with a TypeError, rejecting its tasks', async (t) => {
  const { value: error, first } = await holdingChannels(async () => {
    const pool = new WorkerPool({ filename: TRANSFER, minThreads: 1, maxThreads: 1, execArgv: WATCH })
    try {
      return await bounded(pool.run(new Uint8Array([1]), { name: 'describe' }).catch((e) => e))
    } finally {
      await pool.destroy()
    }
  }, 'not the channel')
  t.deepEqual(first, [false])
  t.is(error.code, 'ERR_BATON_WORKER_INIT')
  t.true(error.cause instanceof TypeError)
  t.is(error.cause.message, 'the pool did not send the worker its channel first')
})
