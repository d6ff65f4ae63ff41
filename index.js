'use strict'

// baton's public API (CommonJS). index.mjs re-exports it for ESM; index.d.ts types it.
const tasks = require('./lib/tasks')

module.exports = {
  failingTask: tasks.failingTask,
  fibonacci: tasks.fibonacci,
  performAsyncTask: tasks.performAsyncTask,
}
