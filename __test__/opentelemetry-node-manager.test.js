'use strict'

// The same scenarios with OpenTelemetry's own AsyncLocalStorageContextManager
// (@opentelemetry/context-async-hooks 3.x, on Node's AsyncLocalStorage), as facts: which
// parents it keeps behind baton's handoffs and which it loses. That package requires
// Node 22.15 or later (its `engines`), so on older lines the scenarios are not registered;
// what is, there, checks that this is still what the package declares.
const test = require('ava')
const { readFileSync } = require('node:fs')
const { dirname, join } = require('node:path')
const { fibonacci, WorkerPool } = require('..')
const { plainAsyncTask } = require('../lib/shared/binding')
const { CONTROL, WORKER, scenarios, setUpTracing, underParent } = require('./opentelemetry-helpers')
const { hooksEngine } = require('./helpers')

const [major, minor] = process.versions.node.split('.').map(Number)
const supported = major > 22 || (major === 22 && minor >= 15)

if (!supported) {
  test(`@opentelemetry/context-async-hooks declares Node 22.15 or later: its scenarios are not registered on Node ${process.versions.node}`, (t) => {
    const manifest = join(dirname(require.resolve('@opentelemetry/context-async-hooks')), '..', 'package.json')
    t.is(JSON.parse(readFileSync(manifest, 'utf8')).engines.node, '>=22.15.0')
  })
} else {
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
