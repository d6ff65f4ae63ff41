'use strict'

// Async context costs, baton against node:async_hooks, side by side in one run:
// `npm run bench` (with bench/tasks.js), or `node bench/context.js [--quick] [--json]`.
//
// Each measurement runs in a fresh child process, so that storages made for one
// implementation cannot tax the other's (on Node 20/22 every storage Node knows adds
// a hook pass to every promise). The parent alternates the order of the two
// implementations from round to round and reports the median over the rounds,
// with the lowest and highest ratio of a single round: on a shared machine one round
// can be off by 2x, and the spread shows it.

const { execFileSync } = require('node:child_process')
const { createHistogram } = require('node:perf_hooks')

const { quick, json } = process.argv[2] === '--child' ? {} : require('./options').benchOptions(__filename)
const STORAGE_COUNTS = quick ? [1, 10] : [1, 5, 10, 50]

/** Each scenario: [name, storages active, operations per timed loop, target text]. */
const scenarios = [
  ['getStore()', 1, 2_000_000, '<= 1.5x'],
  ...STORAGE_COUNTS.filter((k) => k > 1).map((k) => [`getStore(), outermost of ${k}`, k, 2_000_000, 'flat']),
  ...STORAGE_COUNTS.map((k) => [`run(), ${k} active`, k, 300_000, k === 1 ? '<= 1.2x' : k === 10 ? '<= 0.5x on 24/26' : 'flat']),
  ...STORAGE_COUNTS.map((k) => [`await, ${k} active`, k, 200_000, k === 5 ? '<= 0.5x on 20/22, <= 1.2x on 24/26' : 'flat']),
  ['new AsyncResource + runInAsyncScope + emitDestroy', 1, 300_000, '<= 1.5x'],
]

// --- In a child: one measurement --------------------------------------------------------

function child(implementation, name, storages, operations) {
  const { AsyncLocalStorage, AsyncResource } = implementation === 'baton' ? require('..') : require('node:async_hooks')
  const all = Array.from({ length: storages }, () => new AsyncLocalStorage())
  const [first] = all
  const noop = () => {}
  // Nest runs so that every storage has a store, `first` outermost.
  const inside = (fn, i = 0) => (i === all.length ? fn() : all[i].run(i, () => inside(fn, i + 1)))

  const loops = {
    getStore: () => {
      let n = 0
      for (let i = 0; i < operations; i++) n += first.getStore()
      return n
    },
    run: () => {
      for (let i = 0; i < operations; i++) first.run(i, noop)
    },
    await: async () => {
      for (let i = 0; i < operations; i++) await null
    },
    resource: () => {
      for (let i = 0; i < operations; i++) {
        const resource = new AsyncResource('bench.Resource')
        resource.runInAsyncScope(noop)
        resource.emitDestroy()
      }
    },
  }
  const loop = name.startsWith('getStore') ? loops.getStore : name.startsWith('run') ? loops.run : name.startsWith('await') ? loops.await : loops.resource

  // The fastest of five timed loops (after a warm-up loop): on a shared machine,
  // interference only ever adds time.
  return inside(async () => {
    let fastest = Infinity
    for (let round = 0; round < 6; round++) {
      const start = process.hrtime.bigint()
      await loop()
      const ns = Number(process.hrtime.bigint() - start) / operations
      if (round > 0) fastest = Math.min(fastest, ns)
    }
    return fastest
  })
}

if (process.argv[2] === '--child') {
  const [, , , implementation, name, storages, operations] = process.argv
  child(implementation, name, Number(storages), Number(operations)).then((ns) => process.stdout.write(String(ns)))
  return
}

// --- In the parent: the comparison ---------------------------------------------------

function measure(implementation, name, storages, operations) {
  const out = execFileSync(process.execPath, [__filename, '--child', implementation, name, String(storages), String(operations)], {
    encoding: 'utf8',
  })
  return Number(out)
}

const rounds = quick ? 1 : 5
const results = []
for (const [name, storages, operations, target] of scenarios) {
  const ops = quick ? Math.ceil(operations / 10) : operations
  const perImplementation = { node: createHistogram(), baton: createHistogram() }
  const ratios = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? ['baton', 'node'] : ['node', 'baton']
    const ns = {}
    for (const implementation of order) {
      ns[implementation] = measure(implementation, name, storages, ops)
      perImplementation[implementation].record(Math.round(ns[implementation] * 100))
    }
    ratios.push(ns.baton / ns.node)
  }
  const node = perImplementation.node.percentile(50) / 100
  const baton = perImplementation.baton.percentile(50) / 100
  results.push({ name, node, baton, ratio: baton / node, spread: [Math.min(...ratios), Math.max(...ratios)], target })
}

if (json) {
  console.log(JSON.stringify({ node: process.version, results }, null, 2))
} else {
  console.log(`## Async context, ns per operation: Node ${process.version}${quick ? ' (quick run)' : ''}\n`)
  console.log('| operation | node:async_hooks | baton | baton / node | single rounds | target |')
  console.log('|---|---|---|---|---|---|')
  for (const r of results) {
    const spread = r.spread.map((ratio) => ratio.toFixed(2)).join('-')
    console.log(`| ${r.name} | ${r.node.toFixed(1)} | ${r.baton.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${spread}x | ${r.target} |`)
  }
}
