/// <reference types="node" />

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
