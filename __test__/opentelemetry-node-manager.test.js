'use strict'

// The same scenarios with OpenTelemetry's own AsyncLocalStorageContextManager
// (@opentelemetry/context-async-hooks 3.x, on Node's AsyncLocalStorage), as facts: which
// parents it keeps behind baton's handoffs and which it loses. That package requires
// Node 22.15 or later (its `engines`), so on older lines these tests are not registered.
const test = require('ava')
const { fibonacci, WorkerPool } = require('..')
const { plainAsyncTask } = require('../lib/shared/binding')
const { CONTROL, WORKER, scenarios, setUpTracing, underParent } = require('./opentelemetry-helpers')
const hooksEngine = require('../lib/context/engine').enterResource !== undefined

const [major, minor] = process.versions.node.split('.').map(Number)
const supported = major > 22 || (major === 22 && minor >= 15)

if (supported) {
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks')
  setUpTracing(new AsyncLocalStorageContextManager())
  const pool = new WorkerPool({ filename: WORKER, maxThreads: 1, workerData: { manager: 'node' } })
  test.after.always(() => pool.close())
  const handles = { fibonacci, pool, plainAsyncTask }

  /** Whether the parent survives, by scenario: baton restores Node's own stores too, except across threads. */
  const kept = {
    ...Object.fromEntries(Object.keys(scenarios).map((where) => [where, true])),
    "a WorkerPool worker's task (after an await)": false,
    [CONTROL]: hooksEngine,
  }

  for (const [where, scenario] of Object.entries(scenarios)) {
    const verb = kept[where] ? 'keeps' : 'loses'
    test(`OpenTelemetry's own manager ${verb} the parent of a span started in ${where} on Node ${major}`, async (t) => {
      const { parent, child } = await underParent(scenario, handles)
      if (kept[where]) {
        t.is(child.parentSpanId, parent.spanId)
        t.is(child.traceId, parent.traceId)
      } else {
        t.is(child.parentSpanId, undefined)
        t.not(child.traceId, parent.traceId)
      }
    })
  }
}
