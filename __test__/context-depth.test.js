'use strict'

// How deep run() calls nest before the stack runs out: baton's run() must go at least
// as deep as Node's own, on every line and engine, and leave everything as it was when
// the RangeError unwinds it.

const test = require('ava')
const nodeAsyncHooks = require('node:async_hooks')
const baton = require('..')

/** The deepest nesting of `storage.run()` reached before a RangeError, in both call forms. */
function deepest(storage) {
  let reached = 0
  const withArgument = (n) => {
    reached = n
    return storage.run(n, withArgument, n + 1)
  }
  const withClosure = (n) => {
    reached = n
    return storage.run(n, () => withClosure(n + 1))
  }
  const depths = []
  for (const nest of [withArgument, withClosure]) {
    reached = 0
    const error = (() => {
      try {
        nest(1)
      } catch (thrown) {
        return thrown
      }
    })()
    if (!(error instanceof RangeError)) throw error
    depths.push(reached)
  }
  return depths
}

test("baton's run() nests at least as deep as Node's, and unwinds cleanly from a stack overflow", (t) => {
  // Each measured twice, alternating, so that neither gains from running second.
  const node = new nodeAsyncHooks.AsyncLocalStorage()
  const ours = new baton.AsyncLocalStorage()
  const other = new baton.AsyncLocalStorage()
  const results = { node: [], baton: [] }
  other.run('outside', () => {
    for (let i = 0; i < 2; i++) {
      results.node.push(deepest(node))
      results.baton.push(other.run('still', () => deepest(ours)))
    }
    t.is(other.getStore(), 'outside')
  })
  const [nodeArgument, nodeClosure] = [0, 1].map((form) => Math.max(...results.node.map((depths) => depths[form])))
  const [batonArgument, batonClosure] = [0, 1].map((form) => Math.min(...results.baton.map((depths) => depths[form])))
  t.log(`run(store, fn, arg): baton ${batonArgument}, node ${nodeArgument}; run(store, () => ...): baton ${batonClosure}, node ${nodeClosure}`)
  t.true(batonArgument >= nodeArgument, `baton ${batonArgument} < node ${nodeArgument}`)
  t.true(batonClosure >= nodeClosure, `baton ${batonClosure} < node ${nodeClosure}`)
  // Nothing of the unwound runs is left behind.
  t.is(ours.getStore(), undefined)
  t.is(other.getStore(), undefined)
  t.deepEqual(ours.run('a', () => other.run('b', () => [ours.getStore(), other.getStore()])), ['a', 'b'])
  t.is(ours.getStore(), undefined)
})
