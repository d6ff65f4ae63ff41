'use strict'

// The real OpenTelemetry SDK with baton's context manager: a span started after each
// of baton's handoffs, inside a worker too, has the span active at the call as parent.
const test = require('ava')
const api = require('@opentelemetry/api')
const { fibonacci, WorkerPool } = require('..')
const { BatonContextManager } = require('async-baton/opentelemetry')
const { plainAsyncTask } = require('../lib/shared/binding')
const { CONTROL, WORKER, scenarios, setUpTracing, underParent } = require('./opentelemetry-helpers')
const { hooksEngine } = require('./helpers')

setUpTracing(new BatonContextManager())
const pool = new WorkerPool({ filename: WORKER, maxThreads: 2, workerData: { manager: 'baton' } })
test.after.always(() => pool.close())
const handles = { fibonacci, pool, plainAsyncTask }

for (const [where, scenario] of Object.entries(scenarios)) {
  const isControl = where === CONTROL
  test(`baton's manager: a span started in ${where} has the caller's span as parent${isControl ? ' on Node 20/22 only' : ''}`, async (t) => {
    const { parent, child } = await underParent(scenario, handles)
    if (isControl && !hooksEngine) {
      // napi-rs enters JS without the caller's context on AsyncContextFrame: a new trace.
      t.is(child.parentSpanId, undefined)
      t.not(child.traceId, parent.traceId)
      return
    }
    t.is(child.parentSpanId, parent.spanId)
    t.is(child.traceId, parent.traceId)
  })
}

test("baton's manager: the worker sees the submitter's trace state and baggage", async (t) => {
  const tracer = api.trace.getTracer('baton-test')
  const baggage = api.propagation.createBaggage({
    tenant: { value: 'acme corp, 7%' },
    plan: { value: 'gold', metadata: api.baggageEntryMetadataFromString('ttl=60') },
  })
  const span = tracer.startSpan('with state')
  const traced = api.trace.setSpanContext(api.propagation.setBaggage(api.ROOT_CONTEXT, baggage), {
    ...span.spanContext(),
    traceState: api.createTraceState('vendor=abc,other=x-1'),
  })
  const seen = await api.context.with(traced, () => pool.run({ name: 'stateful' }))
  span.end()
  t.is(seen.span.parentSpanId, span.spanContext().spanId)
  t.is(seen.span.traceId, span.spanContext().traceId)
  t.is(seen.traceState, 'vendor=abc,other=x-1')
  t.deepEqual(seen.baggage, [
    ['tenant', 'acme corp, 7%', undefined],
    ['plan', 'gold', 'ttl=60'],
  ])
})

test("baton's manager: a task submitted with no active span starts a new trace in the worker", async (t) => {
  const seen = await api.context.with(api.ROOT_CONTEXT, () => pool.run({ name: 'orphan' }))
  t.is(seen.span.parentSpanId, undefined)
  t.deepEqual(seen.baggage, [])
})

test("baton's manager: concurrent tasks each carry their own parent into the worker", async (t) => {
  const tracer = api.trace.getTracer('baton-test')
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      tracer.startActiveSpan(`parent ${i}`, async (parent) => {
        const seen = await pool.run({ name: `child ${i}` })
        parent.end()
        return { parent: parent.spanContext(), child: seen.span }
      }),
    ),
  )
  for (const { parent, child } of results) {
    t.is(child.parentSpanId, parent.spanId)
    t.is(child.traceId, parent.traceId)
  }
})
