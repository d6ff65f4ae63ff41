'use strict'

// `npm run bench [-- --quick] [-- --json]`: every benchmark, one after the other, with
// the same arguments. Each prints its own table of side-by-side ratios.

const { spawnSync } = require('node:child_process')
const { join } = require('node:path')

for (const file of ['tasks.js', 'context.js', 'pool.js']) {
  const run = spawnSync(process.execPath, [join(__dirname, file), ...process.argv.slice(2)], { stdio: 'inherit' })
  if (run.status !== 0) process.exit(run.status ?? 1)
  console.log()
}
