'use strict'

// What every benchmark takes on its command line: `--quick` (small counts, for CI) and
// `--json` (the figures as JSON after the table). Anything else is a usage error.

const { basename } = require('node:path')

function benchOptions(file, argv = process.argv.slice(2)) {
  for (const arg of argv) {
    if (arg !== '--quick' && arg !== '--json') {
      console.error(`usage: node bench/${basename(file)} [--quick] [--json]\nunknown argument: ${arg}`)
      process.exit(2)
    }
  }
  return { quick: argv.includes('--quick'), json: argv.includes('--json') }
}

module.exports = { benchOptions }
