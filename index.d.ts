/// <reference types="node" />

import { EventEmitter } from "node:events"

/** A Node-style callback: `(null, value)` on success, `(error)` on failure. */
export type Callback<T> = (error: Error | null, value?: T) => void

/** Options every background task accepts. */
export interface TaskOptions {
  /** Aborts the task, also while it runs: it then fails with an `AbortError` whose `cause` is `signal.reason`. */
  signal?: AbortSignal
  /** Called on the caller's thread, in the caller's async context, with the fraction done in [0, 1]. */
  onProgress?: (fraction: number) => void
}

/**
 * The error a task fails with when its signal fires (`code: 'ABORT_ERR'`), like Node's
 * own `fs` and `timers/promises`.
 */
export interface AbortError extends Error {
  name: 'AbortError'
  code: 'ABORT_ERR'
  cause: unknown
}

/** Resolves to 17 on a libuv pool thread: the smallest round trip. */
export function performAsyncTask(): Promise<number>
export function performAsyncTask(callback: Callback<number>): void

/** Fails with `Error('I am a failing task')`. */
export function failingTask(): Promise<never>
export function failingTask(callback: Callback<never>): void

/**
 * The exact n-th Fibonacci number, computed on a libuv pool thread.
 * `n` is an integer from 0 to 100,000,000.
 */
export function fibonacci(n: number, options?: TaskOptions): Promise<bigint>
export function fibonacci(n: number, callback: Callback<bigint>): void
export function fibonacci(n: number, options: TaskOptions | undefined, callback: Callback<bigint>): void

// ---------------------------------------------------------------------------------------
// Async context: node:async_hooks' API, one behaviour on Node 20-26.

export interface AsyncLocalStorageOptions<T> {
  /** Returned by `getStore()` where this storage has no entry. */
  defaultValue?: T
  /** Required (non-empty, unique among marked storages) with `cloneIntoWorkers`. */
  name?: string
  /**
   * `WorkerPool` tasks carry this storage's current store, structured-cloned, into
   * their worker, where the storage of the same `name` has it around the handler.
   */
  cloneIntoWorkers?: boolean
}

/**
 * Disposing gives this storage back the store it had before `withScope()`; other
 * storages keep what they have then (as `run()` restores its own storage only).
 */
export interface RunScope extends Disposable {
  /** Idempotent. */
  dispose(): void
}

export class AsyncLocalStorage<T = unknown> {
  constructor(options?: AsyncLocalStorageOptions<T>)
  /** `''` when no name was given. */
  readonly name: string
  /** `fn` bound to the current context of every storage (baton's and Node's). */
  static bind<F extends (...args: any[]) => any>(fn: F): F
  /** Captures the current context: call the result as `snapshot(fn, ...args)`. */
  static snapshot(): <R, A extends unknown[]>(fn: (...args: A) => R, ...args: A) => R
  getStore(): T | undefined
  run<R, A extends unknown[]>(store: T, fn: (...args: A) => R, ...args: A): R
  /** Runs `fn` with this storage absent: `getStore()` gives the `defaultValue` there. */
  exit<R, A extends unknown[]>(fn: (...args: A) => R, ...args: A): R
  enterWith(store: T): void
  /** Removes this storage from the current context (callbacks scheduled earlier keep theirs). */
  disable(): void
  withScope(store: T): RunScope
}

export interface AsyncResourceOptions {
  triggerAsyncId?: number
  requireManualDestroy?: boolean
}

export class AsyncResource {
  constructor(type: string, options?: AsyncResourceOptions | number)
  static bind<F extends (...args: any[]) => any>(fn: F, type?: string, thisArg?: unknown): F
  bind<F extends (...args: any[]) => any>(fn: F, thisArg?: unknown): F
  runInAsyncScope<This, R, A extends unknown[]>(fn: (this: This, ...args: A) => R, thisArg?: This, ...args: A): R
  /** Emits `destroy` once; later calls do nothing. */
  emitDestroy(): this
  asyncId(): number
  triggerAsyncId(): number
}

export interface EventEmitterAsyncResourceOptions extends AsyncResourceOptions {
  /** The resource type; defaults to the class name. */
  name?: string
  captureRejections?: boolean
}

/** An EventEmitter whose listeners run in the context where it was created. */
export class EventEmitterAsyncResource extends EventEmitter {
  constructor(options?: EventEmitterAsyncResourceOptions | string)
  readonly asyncId: number
  readonly triggerAsyncId: number
  readonly asyncResource: AsyncResource & { readonly eventEmitter: EventEmitterAsyncResource }
  emitDestroy(): void
}

/** The TC39 AsyncContext proposal's API, on the same machinery. */
export namespace AsyncContext {
  class Variable<T = unknown> {
    constructor(options?: { name?: string; defaultValue?: T; cloneIntoWorkers?: boolean })
    readonly name: string
    get(): T | undefined
    run<R, A extends unknown[]>(value: T, fn: (...args: A) => R, ...args: A): R
  }
  class Snapshot {
    constructor()
    run<R, A extends unknown[]>(fn: (...args: A) => R, ...args: A): R
    static wrap<F extends (...args: any[]) => any>(fn: F): F
  }
}

/** One live entry of baton's native registry. */
export interface RegistryEntry {
  kind: 'resource' | 'task'
  /** The registry's number for the JS thread (main or worker) that made it. */
  thread: number
  /** A resource's async id; a task's sequence number. */
  id: number
  type: string
  /** Resources only. */
  triggerAsyncId?: number
  /** When it was registered, ms since the epoch. */
  since: number
}

/** Every live baton resource and task, of every thread of the process. */
export function resources(): RegistryEntry[]

/** The stores of storages marked `cloneIntoWorkers`, by storage name, as `exportContext()` gives them: structured-clonable. */
export type ExportedContext = Record<string, unknown>

/**
 * The marked stores of the current context, cloned, for any transport (IPC, a job
 * queue). Throws `ERR_BATON_STORE_NOT_CLONEABLE`, naming the storage, for a store that
 * cannot be cloned.
 */
export function exportContext(): ExportedContext

/** Runs `fn(...args)` with exactly the stores `context` holds among baton's storages; the caller's context is back after. */
export function runInContext<A extends unknown[], R>(context: ExportedContext, fn: (...args: A) => R, ...args: A): R

// ---------------------------------------------------------------------------------------
// WorkerPool: worker threads with a native dispatch core.

export interface WorkerPoolOptions {
  /** The worker module (path or file URL, CommonJS, ESM or TypeScript): a default export or named functions, or promises of them. None (or null): runs must name theirs. */
  filename?: string | URL | null
  /** The export to call when `run()` names none; the default export otherwise. */
  name?: string
  /** Workers kept even when idle. Default: half the available parallelism (at least 1, at most maxThreads). */
  minThreads?: number
  /** Default: `os.availableParallelism()`, or minThreads if that is more. */
  maxThreads?: number
  /** ms the pool must be idle before it ends the workers above minThreads. Default 1000. */
  idleTimeout?: number
  /** Tasks that may wait for a worker; `'auto'` is maxThreads². Default Infinity. */
  maxQueue?: number | 'auto'
  /** Tasks a worker runs at once (async handlers). Default 1. */
  concurrentTasksPerWorker?: number
  /** ms an aborted running task's handler has to finish before its worker is ended. Default 1000. */
  abortGracePeriod?: number
  /** ms close() waits for the tasks before it ends as destroy() does (an 'error' event, or its rejection). Default 30000. */
  closeTimeout?: number
  /**
   * How an idle worker waits for its next task. `'sync'` (piscina's default): blocked in
   * `Atomics.wait`, woken by `Atomics.notify`, once nothing keeps its event loop alive; the
   * loop does not run while it waits (an unref'd timer a finished task left fires with the
   * next task). `'async'`, `'disabled'` (default): asleep in its event loop, woken through it.
   */
  atomics?: 'sync' | 'async' | 'disabled'
  resourceLimits?: import('node:worker_threads').ResourceLimits
  /** e.g. `['--import', 'tsx']` for TypeScript workers. */
  execArgv?: string[]
  /** Appended to the worker's `process.argv`. */
  argv?: string[]
  env?: NodeJS.Dict<string> | typeof import('node:worker_threads').SHARE_ENV
  /** The worker's `require('node:worker_threads').workerData`. */
  workerData?: unknown
}

export interface RunOptions {
  /** The worker module for this run (path or file URL), instead of the pool's: loaded once per worker, when a task first needs it. */
  filename?: string | URL | null
  /** The worker module's export to call. */
  name?: string | null
  /** Aborting (an AbortSignal, or an EventEmitter's 'abort' event) rejects with an `AbortError` (`cause`: `signal.reason`); a running handler's own signal fires. */
  signal?: AbortSignal | EventTarget | import('node:events').EventEmitter | null
  /** Moved to the worker, not copied: ArrayBuffers (a view stands for its buffer), MessagePorts, other transferable objects. Detached here once the pool takes the task. */
  transferList?: Array<ArrayBuffer | ArrayBufferView | import('node:worker_threads').Transferable>
}

/** piscina's interface of a value that moves: postMessage transfers `[transferableSymbol]` (one object, or an array of them), the receiver gets `[valueSymbol]`. */
export interface Transferable {
  readonly [transferableSymbol]: object
  readonly [valueSymbol]: unknown
}

/** `Symbol.for('Piscina.transferable')`, as piscina's `transferableSymbol`. */
export const transferableSymbol: unique symbol
/** `Symbol.for('Piscina.valueOf')`, as piscina's `valueSymbol`. */
export const valueSymbol: unique symbol

/**
 * Marks a task (given to `run()`) or a worker's result (what its handler returns or resolves
 * with) to be moved, not copied: a view moves its buffer, an ArrayBuffer or MessagePort
 * itself, a `Transferable` what it names. Only the top-level value: nested ones are copied.
 */
export function move<T extends ArrayBuffer | ArrayBufferView | import('node:worker_threads').MessagePort | Transferable>(value: T): Transferable
export function move<T>(value: T): T

/** What a worker module exports: `(task, signal) => result`, maybe async. */
export type WorkerPoolHandler<T = any, R = any> = (task: T, signal: AbortSignal) => R | Promise<R>

export class WorkerPool extends EventEmitterAsyncResource implements AsyncDisposable, Disposable {
  /** `numThreads`: that many workers, running the default `a + b` task. */
  constructor(options?: WorkerPoolOptions | string | URL | number)
  /** Settles in the caller's async context. */
  run<R = any>(task: unknown, options?: RunOptions): Promise<R>
  /** Calls back in the caller's async context. */
  runTask<R = any>(task: unknown, callback: Callback<R>): void
  /** Waits for running and queued tasks (with `force`, rejects the queued ones), then ends the workers. */
  close(options?: { force?: boolean }): Promise<void>
  /** Ends the workers now: queued and running tasks reject with `ERR_BATON_POOL_CLOSED`. */
  destroy(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
  /** Starts close() without waiting for it, as piscina's. */
  [Symbol.dispose](): void
  readonly completed: number
  /** Tasks that no worker, started or still starting, has room for. */
  readonly queueSize: number
  /** True while as many tasks are out as the workers can run at once, or more. */
  readonly needsDrain: boolean
  /** The options in use, filled in, frozen; `filename` as a path. */
  readonly options: Readonly<{
    filename: string | null
    name: string | null
    minThreads: number
    maxThreads: number
    idleTimeout: number
    maxQueue: number
    concurrentTasksPerWorker: number
    abortGracePeriod: number
    closeTimeout: number
    atomics: 'sync' | 'async' | 'disabled'
    resourceLimits: Readonly<import('node:worker_threads').ResourceLimits> | undefined
    env: Readonly<NodeJS.Dict<string>> | typeof import('node:worker_threads').SHARE_ENV | undefined
    execArgv: readonly string[] | undefined
    argv: readonly string[] | undefined
    workerData: unknown
  }>
  readonly maxThreads: number
  readonly minThreads: number
  /** Milliseconds since the pool was made. */
  readonly duration: number
  /** Workers with no task (one still starting counts, as in piscina). */
  readonly idleThreads: number
  readonly threads: import('node:worker_threads').Worker[]
  /** Run time over wall time and maxThreads since the pool started, 0 to 1. */
  readonly utilization: number
  /** Nanoseconds tasks ran in their worker. */
  readonly runTime: import('node:perf_hooks').RecordableHistogram
  /** Nanoseconds tasks waited for a worker. */
  readonly waitTime: import('node:perf_hooks').RecordableHistogram
  on(event: 'workerCreate', listener: (worker: import('node:worker_threads').Worker) => void): this
  on(event: 'workerExit', listener: (worker: import('node:worker_threads').Worker, exitCode: number) => void): this
  on(event: 'drain' | 'needsDrain' | 'close', listener: () => void): this
  /** What a worker's code posts with `parentPort.postMessage`. */
  on(event: 'message', listener: (message: unknown) => void): this
  /** A worker crashed with no task to reject; unheard, it throws, as a `Worker`'s would. */
  on(event: 'error', listener: (error: Error) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}
