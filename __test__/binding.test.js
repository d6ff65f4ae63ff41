'use strict'

// Loading the native binary (lib/shared/binding.js): a worker thread started after the
// main thread loaded it takes the same file without looking for it again (telling glibc
// from musl takes a process report, milliseconds and memory in every pool worker).

const { Worker } = require('node:worker_threads')
const test = require('ava')
const binding = require('../lib/shared/binding')

/** Runs `code` in a new worker thread; resolves to what it posts. */
function inWorker(code) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true })
    worker.once('message', resolve)
    worker.once('error', reject)
  })
}

test('a worker started after the binary loaded loads the same one without a process report', async (t) => {
  const seen = await inWorker(`
    const { parentPort } = require('node:worker_threads')
    let reports = 0
    const getReport = process.report.getReport.bind(process.report)
    process.report.getReport = () => (reports++, getReport())
    const binding = require(${JSON.stringify(require.resolve('../lib/shared/binding'))})
    parentPort.postMessage({ reports, stride: binding.SETTLED_STRIDE })
  `)
  t.deepEqual(seen, { reports: 0, stride: binding.SETTLED_STRIDE })
})
