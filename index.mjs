// ESM entry: the same objects as the CommonJS entry, so both can be mixed in one app.
import baton from './index.js'

export const {
  AsyncContext,
  AsyncLocalStorage,
  AsyncResource,
  EventEmitterAsyncResource,
  exportContext,
  runInContext,
  resources,
  WorkerPool,
  move,
  transferableSymbol,
  valueSymbol,
  failingTask,
  fibonacci,
  performAsyncTask,
} = baton
export default baton
