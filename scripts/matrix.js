'use strict'

// `npm run test:matrix`: the whole ava suite under each supported Node line (Node
// binaries from scripts/node-versions.js). Prints a TAP-derived summary per line and ends
// with `matrix: N passed, N failed`; exits non-zero if any test failed.

const { execFileSync, spawnSync } = require('node:child_process')
const { join } = require('node:path')
const { nodeBinary } = require('./node-versions')

const root = join(__dirname, '..')
const majors = (process.env.BATON_NODE_MATRIX ?? '20,22,24,26').split(',').map(Number)
const avaCli = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs')

let passed = 0
let failed = 0
for (const major of majors) {
  const node = nodeBinary(major)
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  const run = spawnSync(node, [avaCli, '--tap'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  const lines = run.stdout.split('\n')
  const ok = lines.filter((l) => /^ok \d+/.test(l) && !/# SKIP|# TODO/.test(l)).length
  const notOk = lines.filter((l) => /^not ok \d+/.test(l) || /# SKIP|# TODO/.test(l))
  // A crashed run reports fewer results than planned: count the gap as failures.
  const plan = lines.map((l) => /^1\.\.(\d+)/.exec(l)).find(Boolean)
  const missing = plan ? Math.max(0, Number(plan[1]) - ok - notOk.length) : 0
  let bad = notOk.length + missing
  // A runner that failed without a failing test (it could not start, say) fails once.
  if (run.status !== 0 && bad === 0) bad = 1
  passed += ok
  failed += bad
  console.log(`Node ${version}: ${ok} passed, ${bad} failed`)
  if (bad > 0) {
    for (const l of notOk) console.log(`  ${l}`)
    console.log(run.stdout.split('\n').filter((l) => /^\s+(---|message|at:|\.\.\.|name|values)/.test(l)).slice(0, 40).join('\n'))
    console.log(run.stderr.slice(-4000))
  }
}
console.log(`matrix: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
