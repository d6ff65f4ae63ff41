'use strict'

// The demo's worker-thread hop: the digit sum of a number, computed in a worker
// (baton's WorkerPool, or piscina with --compare). The request id is read from the
// storage the task names, never passed in: only a store the pool carried into this
// thread with the task can be there.
const { requestId, nodeRequestId } = require('./request-context')

const storages = { baton: requestId, node: nodeRequestId }

module.exports = async function digest({ digits, storage }) {
  await null // still there after an await, in this thread too
  let sum = 0
  for (let i = 0; i < digits.length; i++) sum += digits.charCodeAt(i) - 48
  return { seenId: storages[storage].getStore(), sum }
}
