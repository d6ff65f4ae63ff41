'use strict'

// A worker's console output reaches the main thread's stdout and stderr before the task's
// result does: a process that ends just after it loses none of it.
const test = require('ava')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const { closeSync, mkdtempSync, openSync, readFileSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { fixtures } = require('./pool-helpers')

const LINES = 1000
const expected = (prefix) => Array.from({ length: LINES }, (_, i) => `${prefix} ${i}\n`).join('')

/**
 * Runs console-exit.js with its stdout and stderr in files, which take every write at
 * once: a pipe that its reader drains slowly makes the main thread's own writes wait, and
 * process.exit() drops those as well (Node's behaviour, not the pool's).
 */
async function run(t, args) {
  const dir = mkdtempSync(join(tmpdir(), 'baton-console-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const files = [join(dir, 'out'), join(dir, 'err')]
  const fds = files.map((file) => openSync(file, 'w'))
  // A hang is what a lost acknowledgement would look like: 30 s is far beyond the run's time.
  const child = spawn(process.execPath, [join(fixtures, 'console-exit.js'), ...args], { stdio: ['ignore', ...fds], timeout: 30_000 })
  for (const fd of fds) closeSync(fd)
  const [code, signal] = await once(child, 'exit')
  t.is(code, 0)
  t.is(signal, null)
  return files.map((file) => readFileSync(file, 'utf8'))
}

for (const end of ['exit', 'close', 'destroy']) {
  for (const name of ['print', 'printLater', 'throwAfterPrinting']) {
    test(`${LINES} lines printed by a task (${name}) all arrive when the process ends after its result (${end})`, async (t) => {
      const [stdout, stderr] = await run(t, [end, name, String(LINES)])
      t.is(stdout, expected('out'))
      t.is(stderr, expected('err'))
    })
  }
}
