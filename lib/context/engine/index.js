'use strict'

// The carrier: where the current baton frame lives, and how it is moved across async
// boundaries. One small strategy per Node context engine, as Node itself has one
// AsyncLocalStorage per engine, both with the same functions (a no-op where an engine
// needs nothing done):
// - getStore(): the current frame;
// - enter(storage, store): puts `storage = store` in front of the current frame for a
//   run() and returns the frame it made, which remembers what leave(frame) needs to
//   put things back when the run returns (AsyncLocalStorage.run() in ../storage.js);
// - enterWith(frame): makes `frame` current;
// - disable(storage): takes `storage` out of the current frame in place;
// - resourceFrame(resource), enterResource(resource, frame): the frame an AsyncResource
//   keeps at construction and puts back on entry, where the engine leaves an
//   enterWith() on the resource itself;
// - cached(frame, storage): `storage` now caches `frame`, which may so outlive the
//   run() that made it;
// - engine: which engine it is, 'async_hooks' or 'AsyncContextFrame'.
// The engines:
// - async-context-frame.js, for AsyncContextFrame (Node 24/26 by default, 22 with
//   --experimental-async-context-frame): one Node AsyncLocalStorage, the only way
//   JavaScript can reach Node's frames;
// - async-hooks.js, for the async_hooks engine (Node 20/22 by default, 24+ with
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

module.exports = isHooksEngine() ? require('./async-hooks') : require('./async-context-frame')
