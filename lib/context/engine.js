'use strict'

// Which engine carries Node's AsyncLocalStorage in this process: async_hooks (Node
// 20/22 by default, 24+ with --no-async-context-frame) or AsyncContextFrame (24+ by
// default, 22 with --experimental-async-context-frame). Found by what tells them
// apart: on the hooks engine a store entered inside runInAsyncScope() stays on the
// resource.

const { AsyncResource } = require('node:async_hooks')
const { carrier } = require('./frame')

let hooksEngine

function probe() {
  const resource = new AsyncResource('baton.EngineProbe', { requireManualDestroy: true })
  const marker = Symbol('probe')
  resource.runInAsyncScope(() => carrier.enterWith(marker))
  const kept = resource.runInAsyncScope(() => carrier.getStore()) === marker
  resource.emitDestroy()
  return kept
}

/**
 * True on the hooks engine. Asked lazily: on that engine the probe turns Node's
 * AsyncLocalStorage hooks on, which nothing should do before a storage is used.
 */
function isHooksEngine() {
  hooksEngine ??= probe()
  return hooksEngine
}

module.exports = { isHooksEngine }
