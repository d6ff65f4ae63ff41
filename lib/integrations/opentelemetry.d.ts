import type { Context, ContextManager } from '@opentelemetry/api'

/**
 * An OpenTelemetry `ContextManager` on a baton `AsyncLocalStorage`: the active context
 * survives baton's native callbacks and, once `enable()`d, crosses into `WorkerPool`
 * workers (its span context and baggage, as W3C trace context).
 */
export declare class BatonContextManager implements ContextManager {
  active(): Context
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F>
  /** A function run in `context`, or an EventEmitter whose listeners added from now on run in it. */
  bind<T>(context: Context, target: T): T
  /** Makes `context` active until the returned scope is disposed. */
  attach(context: Context): { dispose(): void; [Symbol.dispose](): void }
  /** Also makes this manager the one whose context goes into pool workers (the last enabled in a thread). */
  enable(): this
  disable(): this
}
