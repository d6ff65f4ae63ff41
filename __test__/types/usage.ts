// Compiled with `tsc` (never run) as part of `npm test`: the typings must accept
// every documented use and reject misuse (each @ts-expect-error must be an error).
import { fibonacci, failingTask, performAsyncTask, type AbortError, type Callback, type TaskOptions } from 'async-baton'

async function promiseForms(): Promise<void> {
  const seventeen: number = await performAsyncTask()
  const big: bigint = await fibonacci(10)
  const withOptions: bigint = await fibonacci(10, { signal: AbortSignal.timeout(10), onProgress: (f: number) => void f })
  await failingTask().catch((error: unknown) => (error as AbortError).cause)
  void [seventeen, big, withOptions]
}

function callbackForms(): void {
  const onNumber: Callback<number> = (error, value) => {
    if (error) throw error
    const n: number | undefined = value
    void n
  }
  const nothing: void = performAsyncTask(onNumber)
  fibonacci(10, (error, value) => void (error ?? (value as bigint) + 1n))
  fibonacci(10, undefined, () => {})
  const options: TaskOptions = { onProgress: () => {} }
  fibonacci(10, options, () => {})
  failingTask((error) => void error?.message)
  void nothing
}

function misuse(): void {
  // @ts-expect-error n must be a number
  fibonacci('10')
  // @ts-expect-error the signal must be an AbortSignal
  fibonacci(10, { signal: new AbortController() })
  // @ts-expect-error onProgress takes a number
  fibonacci(10, { onProgress: (label: string) => label })
  // @ts-expect-error the callback form returns nothing
  performAsyncTask(() => {}).then(() => {})
}

void [promiseForms, callbackForms, misuse]

import { AsyncContext, AsyncLocalStorage, AsyncResource, EventEmitterAsyncResource, resources } from 'async-baton'

function contextForms(): void {
  const als = new AsyncLocalStorage<{ id: number }>({ name: 'request', defaultValue: { id: 0 } })
  const id: number | undefined = als.run({ id: 1 }, (x: string) => als.getStore()?.id, 'x')
  const scope = als.withScope({ id: 2 })
  scope.dispose()
  const bound: (a: number) => string = AsyncLocalStorage.bind((a: number) => String(a))
  const snapshot = AsyncLocalStorage.snapshot()
  const viaSnapshot: number = snapshot((a: number) => a + 1, 1)
  const resource = new AsyncResource('T', { requireManualDestroy: true })
  const fromScope: string = resource.runInAsyncScope(function (this: number, s: string) { return s + this }, 1, 'a')
  resource.emitDestroy().asyncId()
  const emitter = new EventEmitterAsyncResource({ name: 'E' })
  const emitterId: number = emitter.asyncId
  const owner: EventEmitterAsyncResource = emitter.asyncResource.eventEmitter
  emitter.on('x', () => {})
  const variable = new AsyncContext.Variable({ defaultValue: 'd' })
  const got: string | undefined = variable.run('v', () => variable.get())
  const wrapped: () => number = AsyncContext.Snapshot.wrap(() => 1)
  const kinds: Array<'resource' | 'task'> = resources().map((e) => e.kind)
  // @ts-expect-error the store type is fixed by the storage
  als.run('not an object', () => {})
  void [id, bound, viaSnapshot, fromScope, emitterId, got, wrapped, kinds]
}

void contextForms

import { MessageChannel as NodeMessageChannel } from 'node:worker_threads'
import { WorkerPool, move, transferableSymbol, valueSymbol, type Transferable, type WorkerPoolHandler } from 'async-baton'

async function poolForms(): Promise<void> {
  const pool = new WorkerPool({ filename: new URL('file:///w.mjs'), maxThreads: 2, maxQueue: 'auto', execArgv: ['--import', 'tsx'] })
  const sum: number = await pool.run<number>({ a: 1, b: 2 }, { name: 'add', signal: AbortSignal.timeout(10) })
  await pool.run('x', { filename: './other.ts', name: 'shout' })
  await pool.run('x', { filename: new URL('file:///other.mjs') })
  new WorkerPool(2).runTask<number>({ a: 1, b: 2 }, (error, value) => void (error ?? value))
  pool.on('workerExit', (worker, code: number) => void [worker.threadId, code])
  pool.on('error', (error: Error) => void error.message)
  const p50: number = pool.runTime.percentile(50)
  const handler: WorkerPoolHandler<{ a: number }, number> = (task, signal) => (signal.aborted ? 0 : task.a)
  const marked = new AsyncLocalStorage<string>({ name: 'tenant', cloneIntoWorkers: true })
  const { maxThreads, minThreads, duration, idleThreads, options } = pool
  const modulePath: string | null = options.filename
  pool.on('message', (message: unknown) => void message)
  pool.on('close', () => {})
  await pool.run(1, { signal: new (await import('node:events')).EventEmitter(), name: null })
  new WorkerPool({ filename: null, closeTimeout: 1000, atomics: 'disabled' })
  const waits: 'sync' | 'async' | 'disabled' = options.atomics
  // @ts-expect-error atomics is one of piscina's three values
  new WorkerPool({ atomics: 'never' })
  // @ts-expect-error the options in use are read-only
  options.maxThreads = 1
  // @ts-expect-error a run's filename is a path or a URL
  void pool.run('x', { filename: 42 })
  const pixels = new Uint8Array(16)
  const moved: Transferable = move(pixels)
  await pool.run(moved, { transferList: [new ArrayBuffer(1), pixels, new NodeMessageChannel().port1] })
  const count: number = move(3)
  const custom: Transferable = { [transferableSymbol]: pixels.buffer, [valueSymbol]: pixels }
  void [count, custom[valueSymbol]]
  await pool.close({ force: true })
  // @ts-expect-error transferList holds transferable objects, not strings
  pool.run({}, { transferList: ['x'] })
  // @ts-expect-error maxQueue is a number or 'auto'
  new WorkerPool({ maxQueue: 'many' })
  // @ts-expect-error the callback form returns nothing
  pool.runTask({}, () => {}).then(() => {})
  void [sum, p50, handler, marked, maxThreads, minThreads, duration, idleThreads, modulePath]
}

void poolForms

import { exportContext, runInContext, type ExportedContext } from 'async-baton'
import { BatonContextManager } from 'async-baton/opentelemetry'
import { context as otelContext, ROOT_CONTEXT, type ContextManager } from '@opentelemetry/api'

function transferForms(): void {
  const exported: ExportedContext = exportContext()
  const viaJson: ExportedContext = JSON.parse(JSON.stringify(exported))
  const length: number = runInContext(viaJson, (s: string, n: number) => s.length + n, 'abc', 1)
  // @ts-expect-error the arguments must fit fn
  runInContext(exported, (s: string) => s, 1)
  // @ts-expect-error a context is an object
  runInContext('req-1', () => {})
  const manager: ContextManager = new BatonContextManager().enable()
  otelContext.setGlobalContextManager(manager)
  const active = manager.with(ROOT_CONTEXT, () => manager.active())
  const scope = new BatonContextManager().attach(active)
  scope.dispose()
  void [length, active]
}

void transferForms
