'use strict'

// `npm run test:example`: builds examples/addon (a user's addon on the baton-napi
// crate) and runs its test under each supported Node line. Ends with
// `example: N passed, N failed`; exits non-zero if any test failed.

const { execFileSync, spawnSync } = require('node:child_process')
const { join } = require('node:path')
const { nodeBinary } = require('./node-lines')

const example = join(__dirname, '..', 'examples', 'addon')
const majors = (process.env.BATON_NODE_MATRIX ?? '20,22,24,26').split(',').map(Number)

execFileSync(process.execPath, [join(example, 'build.js')], { stdio: 'inherit' })
let passed = 0
let failed = 0
for (const major of majors) {
  const node = nodeBinary(major)
  const run = spawnSync(node, ['--test', '--test-reporter=tap', 'test.js'], { cwd: example, encoding: 'utf8' })
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(run.stdout)?.[1] ?? 0)
  let bad = count('fail') + count('cancelled')
  // A run that failed without a failing test (it could not start, say) fails once.
  if (run.status !== 0 && bad === 0) bad = 1
  passed += count('pass')
  failed += bad
  console.log(`Node ${major}: ${count('pass')} passed, ${bad} failed`)
  if (bad > 0) console.log(run.stdout.split('\n').filter((l) => /^\s*not ok|error|expected|actual/.test(l)).join('\n'), run.stderr.slice(-4000))
}
console.log(`example: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
