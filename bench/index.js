'use strict'

// `npm run bench`: every benchmark (bench/tasks.js, bench/context.js, bench/pool.js,
// bench/pool-workloads.js), each side by side with its peers, in one run, and one
// report of them all: benchmarks.md (the tables, with the Node, the machine and the date beside them) and
// one SVG chart per table (bench-<table>.svg), in docs/ unless told otherwise.

const { mkdirSync, mkdtempSync, writeFileSync } = require('node:fs')
const os = require('node:os')
const { join, relative } = require('node:path')

const { nodeBinary } = require('../scripts/node-lines')
const { chartSvg } = require('./chart')
const h = require('./harness')

const ROOT = join(__dirname, '..')
const BENCHMARKS = ['tasks.js', 'context.js', 'pool.js', 'pool-workloads.js']
const LINES = ['20', '22', '24', '26']

const USAGE = `usage: npm run bench -- [--quick] [--json] [--callgrind] [--node <major>] [--out <dir>]
  Runs ${BENCHMARKS.map((f) => `bench/${f}`).join(', ')} and writes <dir>/benchmarks.md
  with one <dir>/bench-<table>.svg chart per table.
  --quick          small counts, one round: checks that the benchmarks work (CI);
                   the report goes to a new temporary directory unless --out is given
  --json           prints every figure as one JSON document instead of the report's
                   text (the report is written all the same)
  --callgrind      instruction counts (valgrind's callgrind) beside context figures under 100 ns
  --node <major>   runs under Node ${LINES.join(', ')} from the matrix cache (.node-versions/,
                   fetched from the npm registry when missing)
  --out <dir>      where the report goes (default: docs/)`

const options = h.commandLine(USAGE, {
  quick: { type: 'boolean' },
  json: { type: 'boolean' },
  callgrind: { type: 'boolean' },
  node: { type: 'string' },
  out: { type: 'string' },
})
if (options.node !== undefined && !LINES.includes(options.node)) {
  console.error(`${USAGE}\n\n--node: expected one of ${LINES.join(', ')}, got ${JSON.stringify(options.node)}`)
  process.exit(2)
}

let node = process.execPath
if (options.node !== undefined) {
  try {
    node = nodeBinary(Number(options.node))
  } catch (error) {
    console.error(`bench: no Node ${options.node}: ${error.message}`)
    process.exit(1)
  }
}
const out = options.out ?? (options.quick ? mkdtempSync(join(os.tmpdir(), 'baton-bench-')) : join(ROOT, 'docs'))
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ')
const started = new Date().toISOString()

const results = BENCHMARKS.map((file) => {
  const args = ['--json', ...(options.quick ? ['--quick'] : []), ...(options.callgrind && file === 'context.js' ? ['--callgrind'] : [])]
  try {
    // A full run takes minutes, with --callgrind longer; a hang is caught after an hour.
    return h.runChild(join(__dirname, file), args, { node, timeout: 3_600_000 })
  } catch (error) {
    console.error(`bench: bench/${file} failed (${error.signal ?? `exit code ${error.status}`}); no report written`)
    process.exit(1)
  }
})
mkdirSync(out, { recursive: true })

// The benchmarks ran under `node` on this machine: their machine is the report's, from when the run began.
const machine = { ...results[0].machine, date: started }
const stamp = `Node ${machine.node}, ${machine.cores} × ${machine.cpu}, ${started.slice(0, 10)}${options.quick ? ' (quick run: not figures to quote)' : ''}`

const sections = results.map((result) => {
  const tables = result.tables.map((table) => {
    writeFileSync(join(out, `bench-${table.id}.svg`), chartSvg(table, stamp))
    return h.markdown(table, `bench-${table.id}.svg`)
  })
  return [`## ${result.title} (\`bench/${result.benchmark}.js\`)`, '', ...tables.flatMap((t) => [t, '']), `(${result.seconds.toFixed(1)} s)`].join('\n')
})

const report = [
  '# Benchmarks',
  '',
  `<!-- Written by \`${command}\` (bench/index.js): run it again rather than editing this file. -->`,
  '',
  `${h.describeMachine(machine)}.${options.quick ? ' **A quick run**: small counts and one round, to check that the benchmarks work; its figures are not to be quoted.' : ''}`,
  '',
  'Every ratio is taken side by side, in the same run on the same machine, between baton and what it replaces; ' +
    'on a shared machine single figures move with the load, the ratios much less. ' +
    `\`npm run bench\` reproduces the report; \`npm run bench -- --node <major>\` under another Node line.`,
  '',
  ...sections.flatMap((s) => [s, '']),
].join('\n')

writeFileSync(join(out, 'benchmarks.md'), report)
// A path under the working directory is shorter relative to it; one elsewhere (a temporary directory) is not.
const where = relative(process.cwd(), out).startsWith('..') ? out : relative(process.cwd(), out) || '.'
if (options.json) {
  console.log(JSON.stringify({ command, machine, benchmarks: results }, null, 2))
} else {
  console.log(report)
}
console.error(`bench: wrote ${join(where, 'benchmarks.md')} and ${results.reduce((n, r) => n + r.tables.length, 0)} charts (${join(where, 'bench-*.svg')})`)
