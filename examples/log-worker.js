'use strict'

// The worker-thread hop of the express-pino and fastify-pino examples: a digit sum,
// logged by this thread's own pino logger, whose mixin reads the request id from this
// thread's copy of the store (the submitter's, cloned in with the task).
const { createLogger } = require('./logged-work')

const logger = createLogger('worker')

module.exports = async function digitSum({ digits, tag }) {
  await null // still there after an await, in this thread too
  let sum = 0
  for (let i = 0; i < digits.length; i++) sum += digits.charCodeAt(i) - 48
  logger.info({ hop: 'worker', tag, digitSum: sum })
  return sum
}
