'use strict'

// Whether a task's handler can see its second argument, the task's AbortSignal. A
// signal costs Node 20 about 21,000 instructions to make (callgrind; about as much as
// the rest of an `a + b` task's work in its worker): its V8 gives the object a map of
// its own for each of the fields Node sets on it after Object.setPrototypeOf. Node 22
// and later make one in about 1,000. A handler that cannot reach the argument is given
// none, which nothing it runs can tell apart; every other handler gets its own signal.

const { toString } = Function.prototype
/** Function.prototype's `arguments` accessor: it throws for every function but a sloppy one. */
const argumentsOf = Object.getOwnPropertyDescriptor(Function.prototype, 'arguments')?.get

/** Up to the `(` of a parameter list: `function name(`, `async (`, `function* (`, a method's `name(`. */
const HEAD = /^(?:async\s*)?(?:function\b\s*)?\*?\s*[\w$]*\s*\(/
/** An arrow function with one parameter and no parentheses: `task =>`. */
const BARE_ARROW = /^(?:async\s+)?[\w$]+\s*=>/
/** What a list of plain and destructured parameters holds: names, `{ a, b: c }`, `[a, b]`. */
const PLAIN = /[\w$\s,{}[\]:]/

/** Handlers checked already. */
const checked = new WeakMap()

/**
 * False only for a handler that provably cannot read its second argument: an arrow
 * function, a method or a strict-mode function (none has a `handler.arguments` to read it
 * from while it runs) whose source declares
 * at most one parameter (no default, no rest) and names neither `arguments` nor `eval`.
 * Anything unusual (a bound function, a Proxy, a native one, a comment in the parameter
 * list, a name past ASCII) gets a signal.
 */
function seesSignal(handler) {
  let sees = checked.get(handler)
  if (sees === undefined) {
    sees = check(handler)
    checked.set(handler, sees)
  }
  return sees
}

function check(handler) {
  if (isSloppy(handler)) return true
  let source
  try {
    source = toString.call(handler)
  } catch {
    return true
  }
  // A bound or built-in function's source is `function name() { [native code] }`.
  if (/arguments|eval|\[native code\]/.test(source)) return true
  if (BARE_ARROW.test(source)) return false
  const head = HEAD.exec(source)
  if (head === null) return true
  let depth = 0
  for (let i = head[0].length; i < source.length; i++) {
    const c = source[i]
    if (c === ')' && depth === 0) return false
    if (!PLAIN.test(c)) return true
    if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
    // A second parameter, or a trailing comma after the first: either may be the signal.
    else if (c === ',' && depth === 0) return true
  }
  return true
}

/**
 * Whether `handler` is a sloppy-mode function, whose `arguments` other code can read
 * while it runs: an own property up to Node 24's V8, the prototype's accessor from
 * Node 26's on (which throws for any other function). Without that accessor: assumed so.
 */
function isSloppy(handler) {
  if (Object.hasOwn(handler, 'arguments') || argumentsOf === undefined) return true
  try {
    argumentsOf.call(handler)
    return true
  } catch {
    return false
  }
}

module.exports = { seesSignal }
