'use strict'

// Async context costs, baton against node:async_hooks, side by side in one run:
// `npm run bench` (with the other benchmarks), or
// `node bench/context.js [--quick] [--json] [--callgrind]`.
//
// Each measurement runs in a fresh child process, so that storages made for one
// implementation cannot tax the other's (on Node 20/22 every storage Node knows adds
// a hook pass to every promise). The parent alternates the order of the two
// implementations from round to round and reports the median over the rounds,
// with the lowest and highest ratio of a single round: on a shared machine one round
// can be off by 2x, and the spread shows it.
//
// Two costs of storages that are no longer in use, which in-process benchmarks that
// make storages per round measure without meaning to:
// - `run()` of one storage at top level after N other storages have each run once: on
//   Node 24/26 each leaves an entry in the frame, which every later `run()` copies.
// - How many of 1,000 dropped storages (each `run()` once) a garbage collection frees,
//   counted by a FinalizationRegistry: Node frees none unless they were `disable()`d.
//
// `--callgrind`: for every figure under 100 ns, valgrind's callgrind also counts the
// instructions of one more timed loop (the difference between a child that runs it and
// one that stops before it), which does not move with the machine's load.

const { spawnSync, execFileSync } = require('node:child_process')
const { mkdtempSync, readFileSync, rmSync } = require('node:fs')
const os = require('node:os')
const { join } = require('node:path')

const h = require('./harness')

// --- In a child: one measurement --------------------------------------------------------

// The storages that ran before the timed loops: held here to the end, as a program would hold them.
const ranOnce = []
// What a loop that grows to fit (timeLoops' `fewest`) lasts at least: 20 ms.
const LOOP_NS = 20e6

function load(implementation) {
  return implementation === 'baton' ? require('..') : require('node:async_hooks')
}

/**
 * `loops` timed loops of `operations` each, the first a warm-up; resolves to the ns per
 * operation of the fastest other one (on a shared machine, interference only ever adds
 * time) and the operations per loop. `active` storages hold a store around the loops
 * (nested, the first outermost); `ranBefore` other storages have each run once before,
 * at top level. With `fewest`, the loop starts at that many operations and grows
 * (to `operations` at most) until one loop takes LOOP_NS: where one implementation's
 * operation costs hundreds of times the other's, a count that keeps the slow one's loops
 * short would time the fast one's code before V8 has optimized it.
 */
function timeLoops(implementation, { loop, active, ranBefore, operations: most, fewest, loops }) {
  const { AsyncLocalStorage, AsyncResource } = load(implementation)
  const all = Array.from({ length: active }, () => new AsyncLocalStorage())
  const first = all[0] ?? new AsyncLocalStorage()
  const noop = () => {}
  for (let i = 0; i < ranBefore; i++) {
    const storage = new AsyncLocalStorage()
    storage.run(true, noop)
    ranOnce.push(storage)
  }
  // Nest runs so that every active storage has a store, `first` outermost.
  const inside = (fn, i = 0) => (i === all.length ? fn() : all[i].run(i, () => inside(fn, i + 1)))

  let operations = fewest ?? most
  const bodies = {
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
  const timed = bodies[loop]
  const loopNs = async () => {
    const start = process.hrtime.bigint()
    await timed()
    return Number(process.hrtime.bigint() - start)
  }
  return inside(async () => {
    while (operations < most && (await loopNs()) < LOOP_NS) operations = Math.min(most, operations * 4)
    let fastest = Infinity
    for (let round = 0; round < loops; round++) {
      const ns = (await loopNs()) / operations
      if (round > 0) fastest = Math.min(fastest, ns)
    }
    return { ns: fastest, operations }
  })
}

/** Makes `count` storages, runs each once (and disables it if told), and drops them all. */
function dropStorages(AsyncLocalStorage, count, disable, registry) {
  const noop = () => {}
  for (let i = 0; i < count; i++) {
    const storage = new AsyncLocalStorage()
    storage.run(i, noop)
    if (disable) storage.disable()
    registry.register(storage, i)
  }
}

/** Resolves to how many of `count` dropped storages garbage collections free (needs --expose-gc). */
async function countCollected(implementation, { count, disable }) {
  const { AsyncLocalStorage } = load(implementation)
  let collected = 0
  const registry = new FinalizationRegistry(() => {
    collected++
  })
  dropStorages(AsyncLocalStorage, count, disable, registry)
  // A FinalizationRegistry's callbacks run in tasks after the collection: give them turns.
  for (let attempt = 0; attempt < 10 && collected < count; attempt++) {
    globalThis.gc()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return collected
}

if (process.argv[2] === '--child') {
  const [, , , implementation, json] = process.argv
  const spec = JSON.parse(json)
  h.childResult(() => (spec.loop === 'collect' ? countCollected(implementation, spec) : timeLoops(implementation, spec)))
  return
}

// --- In the parent: the comparison ---------------------------------------------------

const USAGE = `usage: node bench/context.js [--quick] [--json] [--callgrind]
  --quick      small counts and one round (CI: checks that the benchmark works)
  --json       the figures as JSON instead of Markdown tables
  --callgrind  instruction counts (valgrind's callgrind) beside figures under 100 ns`
const { quick, json, callgrind } = h.benchOptions(USAGE, { callgrind: { type: 'boolean' } })

const IMPLEMENTATIONS = ['node', 'baton']
const STORAGE_COUNTS = quick ? [1, 10] : [1, 5, 10, 50]
const RAN_BEFORE = [0, 100, 1000]
const ROUNDS = quick ? 1 : 5
const SCALE = quick ? 10 : 1 // quick runs do a tenth of the operations
const LOOPS = 6 // per child: a warm-up loop, then the fastest of 5 timed ones
const DROPPED = 1000
const MAJOR = Number(process.versions.node.split('.')[0])
// Figures under this many ns get instruction counts with --callgrind.
const CALLGRIND_BELOW_NS = 100
const CALLGRIND_OPERATIONS = quick ? 10_000 : 100_000

/**
 * A target: baton / node at most `max`, on the lines `on` (every line if absent); or
 * `flat`: baton's figure does not grow with the number of storages.
 * @typedef {{ max: number, on?: number[] } | 'flat'} Target
 */

/** @typedef {{ name: string, loop: string, active: number, ranBefore: number, operations: number, fewest?: number, targets: Target[] }} Scenario */

/** @type {Scenario[]} */
const SCENARIOS = [
  { name: '`getStore()`', loop: 'getStore', active: 1, operations: 2_000_000, targets: [{ max: 1.5 }] },
  ...STORAGE_COUNTS.filter((k) => k > 1).map((k) => ({ name: `\`getStore()\`, outermost of ${k}`, loop: 'getStore', active: k, operations: 2_000_000, targets: ['flat'] })),
  ...STORAGE_COUNTS.map((k) => ({
    name: `\`run()\`, ${k} active`,
    loop: 'run',
    active: k,
    operations: 300_000,
    targets: k === 1 ? [{ max: 1.2 }] : k === 10 ? [{ max: 0.5, on: [24, 26] }] : ['flat'],
  })),
  ...STORAGE_COUNTS.map((k) => ({
    name: `one \`await\`, ${k} active`,
    loop: 'await',
    active: k,
    operations: 200_000,
    targets: k === 5 ? [{ max: 0.5, on: [20, 22] }, { max: 1.2, on: [24, 26] }] : ['flat'],
  })),
  { name: '`new AsyncResource` + `runInAsyncScope` + `emitDestroy`', loop: 'resource', active: 1, operations: 300_000, targets: [{ max: 1.5 }] },
].map((s) => ({ ranBefore: 0, ...s }))

// At most 300,000 operations a loop; at first as few as where Node's run() copies a frame
// of N entries (146 µs each at 1,000), the loop growing until it lasts 20 ms.
const RAN_BEFORE_FEWEST = { 0: 300_000, 100: 20_000, 1000: 3_000 }

/** @type {Scenario[]} */
const RAN_BEFORE_SCENARIOS = RAN_BEFORE.map((n) => ({
  name: `\`run()\` after ${n.toLocaleString('en-US')} other storages ran once`,
  loop: 'run',
  active: 0,
  ranBefore: n,
  operations: 300_000,
  fewest: RAN_BEFORE_FEWEST[n],
  targets: ['flat'],
}))

const targetText = (targets) => targets.map((t) => (t === 'flat' ? 'flat' : `≤ ${t.max}x${t.on ? ` on ${t.on.join('/')}` : ''}`)).join(', ')
/** The ratio to stay at or below on this line, or null. */
const targetHere = (targets) => targets.find((t) => t !== 'flat' && (t.on === undefined || t.on.includes(MAJOR)))?.max ?? null

function measure(implementation, spec, nodeArgs = []) {
  return h.runChild(__filename, ['--child', implementation, JSON.stringify(spec)], { nodeArgs })
}

/** Every scenario, `ROUNDS` alternating rounds: medians per implementation and the ratios. */
function timeScenarios(list, label) {
  return list.map((scenario, index) => {
    const scaled = (n) => (n === undefined ? undefined : Math.ceil(n / SCALE))
    const spec = { loop: scenario.loop, active: scenario.active, ranBefore: scenario.ranBefore, operations: scaled(scenario.operations), fewest: scaled(scenario.fewest), loops: LOOPS }
    const ns = { node: [], baton: [] }
    /** Operations per loop each implementation's children settled on (the most, for callgrind). */
    const loopOperations = { node: 0, baton: 0 }
    for (let round = 0; round < ROUNDS; round++) {
      h.progress(`context: ${label} ${index + 1}/${list.length}, round ${round + 1}/${ROUNDS}`)
      for (const implementation of h.roundOrder(round, IMPLEMENTATIONS)) {
        const timed = measure(implementation, spec)
        ns[implementation].push(timed.ns)
        loopOperations[implementation] = Math.max(loopOperations[implementation], timed.operations)
      }
    }
    const ratio = h.compare(ns.baton, ns.node)
    return { ...scenario, spec, loopOperations, node: h.median(ns.node), baton: h.median(ns.baton), ratio: ratio.ofMedians, spread: ratio.spread, rounds: ns, target: targetHere(scenario.targets) }
  })
}

/** Whether valgrind can be run here. */
function hasValgrind() {
  return spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0
}

// V8 on one thread, with fixed seeds: two runs of the same child then count the same
// instructions to a few thousand, where background compilation and garbage collection
// threads otherwise move the total by millions.
const DETERMINISTIC_V8 = ['--single-threaded', '--random-seed=1', '--hash-seed=1']

/** Instructions of one run of this file's child under callgrind (startup included). */
function instructionsOf(implementation, spec, dir, name) {
  const out = join(dir, name)
  const child = [process.execPath, ...DETERMINISTIC_V8, __filename, '--child', implementation, JSON.stringify(spec)]
  // V8 writes the code it runs: callgrind must watch all of it, not only the stack's.
  execFileSync('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, ...child], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  })
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'latin1'))
  if (totals === null) throw new Error(`callgrind wrote no totals to ${out}`)
  return Number(totals[1])
}

/**
 * Instructions per operation: a child that runs the timed child's loops and one more,
 * minus one that runs the timed child's loops, divided by the loop's operations. After
 * that many loops the code has settled: the next loop counts the same.
 */
function instructionsPerOperation(implementation, scenario, dir) {
  const operations = Math.min(CALLGRIND_OPERATIONS, scenario.loopOperations[implementation])
  const { loops } = scenario.spec
  // A fixed count: both children must run the same loops.
  const spec = { ...scenario.spec, operations, fewest: undefined }
  const shorter = instructionsOf(implementation, { ...spec, loops }, dir, `${implementation}.${loops}`)
  const longer = instructionsOf(implementation, { ...spec, loops: loops + 1 }, dir, `${implementation}.${loops + 1}`)
  return (longer - shorter) / operations
}

/** Adds `instructions: { node, baton }` to every timed figure under 100 ns. */
function countInstructions(results) {
  const dir = mkdtempSync(join(os.tmpdir(), 'baton-callgrind-'))
  try {
    const fast = results.filter((r) => Math.min(r.node, r.baton) < CALLGRIND_BELOW_NS)
    fast.forEach((r, index) => {
      h.progress(`context: callgrind ${index + 1}/${fast.length}`)
      r.instructions = { node: instructionsPerOperation('node', r, dir), baton: instructionsPerOperation('baton', r, dir) }
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function countDropped() {
  return [false, true].map((disable) => {
    const counts = { node: [], baton: [] }
    for (let round = 0; round < ROUNDS; round++) {
      h.progress(`context: dropped storages${disable ? ', disabled' : ''}, round ${round + 1}/${ROUNDS}`)
      for (const implementation of h.roundOrder(round, IMPLEMENTATIONS)) {
        counts[implementation].push(measure(implementation, { loop: 'collect', count: DROPPED, disable }, ['--expose-gc']))
      }
    }
    return { disable, node: h.median(counts.node), baton: h.median(counts.baton), rounds: counts }
  })
}

// --- Tables -------------------------------------------------------------------------------

const ns = (x) => h.fixed(x, x >= 1000 ? 0 : 1)
const plain = (name) => name.replaceAll('`', '')

function ratioTable(id, title, notes, results, instructions) {
  const columns = ['operation', 'node:async_hooks ns', 'baton ns', 'baton / node', 'single rounds', 'target']
  if (instructions) columns.push('instructions, node / baton')
  const rows = results.map((r) => {
    const row = [r.name, ns(r.node), ns(r.baton), `**${h.times(r.ratio)}**`, h.span(r.spread, h.times), targetText(r.targets)]
    if (instructions) {
      const i = r.instructions
      row.push(i === undefined ? '' : `${i.node.toFixed(0)} / ${i.baton.toFixed(0)} = ${h.times(i.baton / i.node)}`)
    }
    return row
  })
  return {
    id,
    title,
    notes,
    columns,
    align: columns.map((_, i) => (i === 0 ? 'left' : 'right')),
    rows,
    chart: {
      kind: 'ratio',
      caption: 'baton / node:async_hooks, time per operation (lower is better)',
      bars: results.map((r) => ({ label: plain(r.name), value: r.ratio, spread: r.spread, target: r.target, better: 'lower' })),
    },
  }
}

function tables(result) {
  const method =
    `ns per operation, each measured in a fresh process: the fastest of ${LOOPS - 1} timed loops after a warm-up loop, median of ` +
    `${ROUNDS} alternating round${ROUNDS === 1 ? '' : 's'}; "single rounds" is the range of the ratio within one round. ` +
    '"k active": k storages of the same implementation hold a store. "flat": baton\'s figure does not grow with the number of storages.'
  let instructionsNote = []
  if (result.callgrind === 'missing') {
    instructionsNote = ['Instruction counts: valgrind is not installed here (`apt-get install -y valgrind`), so there are none.']
  } else if (result.callgrind === 'counted') {
    instructionsNote = [
      `Instruction counts (valgrind's callgrind): for each figure under ${CALLGRIND_BELOW_NS} ns, per operation over one more timed loop ` +
        `(of at most ${CALLGRIND_OPERATIONS.toLocaleString('en-US')} operations) after the timed ones, with V8 on one thread and fixed seeds ` +
        `(\`${DETERMINISTIC_V8.join(' ')}\`); they do not move with the machine's load.`,
    ]
  }
  const counted = result.callgrind === 'counted'
  return [
    ratioTable('context', 'Async context: baton against node:async_hooks', [method, ...instructionsNote], result.operations, counted),
    ratioTable(
      'context-ran-before',
      '`run()` after other storages have each run once',
      [
        `One storage's \`run()\` at top level, after N other storages (still referenced) have each run once. ` +
          "On Node 24/26 each of them leaves an entry in the frame, which every later `run()` copies. Method as above, except that each loop starts at 3,000 operations (20,000 after 100) and grows fourfold until it lasts 20 ms (300,000 at most), so that the fast implementation's code is timed optimized as elsewhere.",
      ],
      result.ranBefore,
      counted,
    ),
    {
      id: 'context-dropped',
      title: `Dropped storages collected, of ${DROPPED.toLocaleString('en-US')}`,
      notes: [
        `${DROPPED.toLocaleString('en-US')} storages, each \`run()\` once and then dropped, in a fresh process with \`--expose-gc\`: how many a ` +
          `FinalizationRegistry sees collected after up to 10 \`gc()\` calls; median of ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}.`,
      ],
      columns: ['storages', 'node:async_hooks', 'baton'],
      align: ['left', 'right', 'right'],
      rows: result.dropped.map((d) => [d.disable ? '`run()` once, `disable()`d, dropped' : '`run()` once, dropped', String(d.node), String(d.baton)]),
      chart: {
        kind: 'values',
        caption: `storages collected, of ${DROPPED.toLocaleString('en-US')} (higher is better)`,
        series: ['node:async_hooks', 'baton'],
        max: DROPPED,
        bars: result.dropped.map((d) => ({ label: d.disable ? 'run() once, disable()d, dropped' : 'run() once, dropped', values: [d.node, d.baton] })),
      },
    },
  ]
}

function main() {
  const started = performance.now()
  const result = {
    benchmark: 'context',
    title: 'Async context: baton against node:async_hooks',
    machine: h.machine(),
    quick,
    rounds: ROUNDS,
    operations: timeScenarios(SCENARIOS, 'operation'),
    ranBefore: timeScenarios(RAN_BEFORE_SCENARIOS, 'after storages ran'),
    dropped: countDropped(),
    callgrind: 'not asked',
  }
  if (callgrind) {
    if (hasValgrind()) {
      countInstructions([...result.operations, ...result.ranBefore])
      result.callgrind = 'counted'
    } else {
      result.callgrind = 'missing'
      console.error('bench/context.js: --callgrind: valgrind is not installed (apt-get install -y valgrind); no instruction counts')
    }
  }
  h.progress('')
  result.tables = tables(result)
  result.seconds = (performance.now() - started) / 1000
  h.printResult(result, json)
}

main()
