'use strict'

// Shared by the opentelemetry*.test.js files and their worker module: the real SDK
// with an in-memory exporter, and the scenarios whose spans must (or, with
// OpenTelemetry's own manager, may not) have the right parent.
const { join } = require('node:path')
const api = require('@opentelemetry/api')
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base')

/** The scenario baton does not fix, as the control: napi-rs's own callbacks enter JS with no context of their own. */
const CONTROL = 'a plain napi-rs callback (the control)'
const WORKER = join(__dirname, 'fixtures', 'opentelemetry', 'worker.js')

/** Makes `manager` this thread's global context manager and an SDK tracer provider that records every span. */
function setUpTracing(manager) {
  const exporter = new InMemorySpanExporter()
  api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
  api.context.setGlobalContextManager(manager.enable())
  return { exporter, tracer: api.trace.getTracer('baton-test') }
}

/** What the tests compare of a finished span (structured-clonable, so a worker can return it). */
function describeSpan(span) {
  const { traceId, spanId } = span.spanContext()
  return { name: span.name, traceId, spanId, parentSpanId: span.parentSpanContext?.spanId }
}

/** Starts and ends a span named `name` in the active context; its description. */
function childSpan(name) {
  const span = api.trace.getTracer('baton-test').startSpan(name)
  span.end()
  return describeSpan(span)
}

/** A Promise of what `start(done)` passes to `done(error, value)`. */
function settled(start) {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))))
}

/**
 * Where a span is started after a handoff, each a function of `{ fibonacci, pool, plainAsyncTask }`
 * resolving with the span's description.
 */
const scenarios = {
  'a native task callback (fibonacci, callback form)': ({ fibonacci }) =>
    settled((done) => fibonacci(5000, (error) => done(error, childSpan('callback')))),
  'onProgress (from a Rust thread)': ({ fibonacci }) => {
    let first
    return settled((done) =>
      fibonacci(5000, { onProgress: () => (first ??= childSpan('progress')) }, (error) => done(error, first)),
    )
  },
  'a WorkerPool callback (runTask)': ({ pool }) =>
    settled((done) => pool.runTask({ name: 'pool task' }, (error) => done(error, childSpan('runTask callback')))),
  "a WorkerPool worker's task (after an await)": async ({ pool }) => (await pool.run({ name: 'in worker' })).span,
  [CONTROL]: ({ plainAsyncTask }) =>
    settled((done) => plainAsyncTask((error) => done(error, childSpan('plain callback')))),
}

/** Runs `scenario` inside an active parent span: `{ parent, child }` descriptions. */
async function underParent(scenario, handles) {
  const tracer = api.trace.getTracer('baton-test')
  return tracer.startActiveSpan('parent', async (parent) => {
    try {
      return { parent: describeSpan(parent), child: await scenario(handles) }
    } finally {
      parent.end()
    }
  })
}

module.exports = { CONTROL, WORKER, childSpan, describeSpan, scenarios, setUpTracing, underParent }
