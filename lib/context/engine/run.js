'use strict'

// AsyncLocalStorage's run(), the same for both engines: the engine's enter(), the call,
// the engine's leave(). One stack frame with no local per nested run(), so nesting goes
// deeper than with Node's own run(): what a run() must remember is on the engine's
// stack instead, at index `runs.depth`, popped in the finally block itself, where no
// call can fail for want of stack (leave() might, when the call did).

/** How many run() calls are on the stack. */
const runs = { depth: 0 }

/** `enter(storage, store)` pushes at `runs.depth` and counts it; `leave(storage, store)` reads at `runs.depth`. */
function makeRun(enter, leave, forget) {
  return function run(store, fn, ...args) {
    enter(this, store)
    try {
      // Without arguments, V8 drops the rest array altogether.
      return args.length === 0 ? fn() : fn(...args)
    } finally {
      runs.depth--
      leave(this, store)
      forget(this)
    }
  }
}

module.exports = { makeRun, runs }
