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
  name?: string
}

/** Disposes to the context that was current before `withScope()`. */
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
  readonly asyncResource: AsyncResource
  emitDestroy(): void
}

/** The TC39 AsyncContext proposal's API, on the same machinery. */
export namespace AsyncContext {
  class Variable<T = unknown> {
    constructor(options?: { name?: string; defaultValue?: T })
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
