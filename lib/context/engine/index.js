'use strict'

// The carrier: where the current baton frame lives, and how it is moved across async
// boundaries. One small strategy per engine behind one interface (getStore, enter and
// leave for AsyncLocalStorage's run() in run.js, enterWith, disable, and enterResource/resourceFrame where
// an engine needs a resource's own frame put back):
// - frame.js, for AsyncContextFrame (Node 24/26 by default, 22 with
//   --experimental-async-context-frame): one Node AsyncLocalStorage, the only way
//   JavaScript can reach Node's frames;
// - hooks.js, for the async_hooks engine (Node 20/22 by default, 24+ with
//   --no-async-context-frame): baton's own init hook, doing once what a Node
//   AsyncLocalStorage wrapped by baton would do twice.

const { AsyncLocalStorage, AsyncResource } = require('node:async_hooks')

/** What tells the engines apart: on the hooks engine, a store entered inside runInAsyncScope() stays on the resource. */
function isHooksEngine() {
  const storage = new AsyncLocalStorage()
  const resource = new AsyncResource('baton.EngineProbe', { requireManualDestroy: true })
  resource.runInAsyncScope(() => storage.enterWith(true))
  const kept = resource.runInAsyncScope(() => storage.getStore()) === true
  resource.emitDestroy()
  // The last storage disabled turns Node's hooks off again.
  storage.disable()
  return kept
}

module.exports = isHooksEngine() ? require('./hooks') : require('./frame')
