'use strict'

// `npm run demo` (examples/request-id-logger.js), run briefly in a child process under
// the Node line running this suite: its report, its exit codes, and --compare's table
// of where the request id is lost.

const test = require('ava')
const { execFile } = require('node:child_process')
const { join } = require('node:path')

const DEMO = join(__dirname, '..', 'examples', 'request-id-logger.js')
const FIXTURES = join(__dirname, 'fixtures', 'demo')
const HOPS = ['start', 'progress', 'callback', 'await', 'worker', 'after worker', 'end']
const MAJOR = Number(process.versions.node.split('.')[0])
const SMALL = ['--requests', '40', '--concurrency', '8', '--threads', '1']

/** Runs the demo; resolves { code, stdout, stderr }. */
function demo(args, preload) {
  const nodeArgs = preload ? ['-r', join(FIXTURES, preload)] : []
  return new Promise((resolve) => {
    // A bound against a hang: a small run takes about a second.
    execFile(process.execPath, [...nodeArgs, DEMO, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr })
    })
  })
}

/** The per-hop rows of baton's report: { hop: { lines, wrong } }. */
function hopRows(stdout) {
  const rows = {}
  for (const hop of HOPS) {
    const match = new RegExp(`^${hop}\\s+(\\d+)\\s+(\\d+)\\s+[\\d.]+\\s+[\\d.]+$`, 'm').exec(stdout)
    if (match) rows[hop] = { lines: Number(match[1]), wrong: Number(match[2]) }
  }
  return rows
}

/** --compare's table: { stack: { hop: cell } }. */
function compareTable(stdout) {
  const lines = stdout.split('\n')
  const header = lines.findIndex((line) => /^hop\s+baton\s/.test(line))
  if (header === -1) return null
  const stacks = lines[header].trim().split(/\s{2,}/).slice(1)
  const table = Object.fromEntries(stacks.map((stack) => [stack, {}]))
  for (const line of lines.slice(header + 1, header + 1 + HOPS.length)) {
    const [hop, ...cells] = line.trim().split(/\s{2,}/)
    cells.forEach((cell, i) => (table[stacks[i]][hop] = cell))
  }
  return table
}

test('a short run answers every request, logs every hop and finds no wrong id', async (t) => {
  const { code, stdout, stderr } = await demo(SMALL)
  t.is(code, 0, stderr)
  t.regex(stdout, /^requests +53 \(40 \+ 13 edge cases\), 53 ok, 0 failed/m)
  t.regex(stdout, /^latency +p50 [\d.]+ ms, p99 [\d.]+ ms/m)
  const total = /^log lines +(\d+), wrong ids 0$/m.exec(stdout)
  t.truthy(total, stdout)
  const rows = hopRows(stdout)
  t.deepEqual(Object.keys(rows), HOPS, stdout)
  for (const hop of HOPS) {
    t.true(rows[hop].lines >= 40, `${hop}: ${rows[hop].lines} lines`)
    t.is(rows[hop].wrong, 0, hop)
  }
  t.is(Object.values(rows).reduce((sum, row) => sum + row.lines, 0), Number(total[1]))
  t.regex(stdout, /^ {2}\[req 1\] hop=end status=\d+/m)
  t.regex(stdout, /^OK: /m)
  // Not a terminal: no progress bar drawn with carriage returns.
  t.false(stderr.includes('\r'))
})

test('a wrong id in baton\'s run fails the demo and is reported', async (t) => {
  const { code, stdout, stderr } = await demo(SMALL, 'one-wrong-id.js')
  t.is(code, 1)
  t.regex(stdout, /^log lines +\d+, wrong ids 1$/m)
  t.regex(stderr, /^FAIL$/m)
  t.regex(stderr, /1 log line\(s\) saw another request's id/)
  t.regex(stderr, /\[req -1\] .*<-- expected req \d+/)
})

test('--compare: baton keeps the id at every hop; the others lose it where the facts say', async (t) => {
  const { code, stdout, stderr } = await demo(['--compare', ...SMALL])
  t.is(code, 0, stderr)
  const table = compareTable(stdout)
  t.truthy(table, stdout)
  t.deepEqual(Object.keys(table), ['baton', 'node:async_hooks', 'napi-rs', 'piscina'])
  const lost = (stack) => HOPS.filter((hop) => table[stack][hop].startsWith('lost'))
  for (const stack of Object.keys(table)) {
    for (const hop of HOPS) t.regex(table[stack][hop], /^(kept|lost \d+\/\d+)$/, `${stack} ${hop}`)
  }
  t.deepEqual(lost('baton'), [])
  // Node's storage does not enter worker threads; baton's tasks keep it everywhere else.
  t.deepEqual(lost('node:async_hooks'), ['worker'])
  // piscina runs tasks in the submitter's context on the main thread, never in the worker.
  t.deepEqual(lost('piscina'), ['worker'])
  // The plain napi-rs callbacks (async work completion, thread-safe function) run with
  // no context on AsyncContextFrame (24/26); everything the callback starts then has none.
  if (MAJOR >= 24) {
    t.deepEqual(lost('napi-rs'), ['progress', 'callback', 'await', 'worker', 'after worker', 'end'])
    t.regex(table['napi-rs'].callback, /^lost (\d+)\/\1$/, 'every plain callback')
  } else {
    t.deepEqual(lost('napi-rs'), [])
  }
})

test('--compare without piscina installed says so and skips its column', async (t) => {
  const { code, stdout, stderr } = await demo(['--compare', ...SMALL], 'without-piscina.js')
  t.is(code, 0, stderr)
  t.regex(stdout, /^piscina: skipped, piscina is not installed/m)
  const table = compareTable(stdout)
  t.deepEqual(Object.keys(table), ['baton', 'node:async_hooks', 'napi-rs', 'piscina'])
  for (const hop of HOPS) t.is(table.piscina[hop], 'skipped')
  t.is(table['node:async_hooks'].worker.split(' ')[0], 'lost')
})

test('--help prints the usage and exits 0; a bad option prints it and exits 2', async (t) => {
  const help = await demo(['--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /^usage: npm run demo -- \[options\]/)
  for (const flag of ['--requests', '--concurrency', '--threads', '--compare']) t.true(help.stdout.includes(flag), flag)

  const bad = [
    [['--requests', '0'], /--requests wants an integer from 1 to 100000, got 0/],
    [['--requests=1.5'], /--requests wants an integer/],
    [['--concurrency', '1001'], /--concurrency wants an integer from 1 to 1000/],
    [['--threads', 'two'], /--threads wants an integer from 1 to 16, got two/],
    [['--threads'], /--threads wants an integer from 1 to 16, got nothing/],
    [['--verbose'], /unknown argument: --verbose/],
  ]
  for (const [args, message] of bad) {
    const { code, stdout, stderr } = await demo(args)
    t.is(code, 2, args.join(' '))
    t.regex(stderr, message)
    t.regex(stderr, /usage: npm run demo/)
    t.is(stdout, '', 'nothing runs')
  }
})
