'use strict'

// The demo's worker-thread hop: the digit sum of a Fibonacci number, computed in a
// WorkerPool worker. The request id is read from the store, never passed in: it is the
// submitter's, cloned into this thread with the task.
const { requestId } = require('./request-context')

module.exports = async function digest(digits) {
  await null // still there after an await, in this thread too
  let sum = 0
  for (let i = 0; i < digits.length; i++) sum += digits.charCodeAt(i) - 48
  return { seenId: requestId.getStore(), sum }
}
