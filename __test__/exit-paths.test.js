'use strict'

// Exit paths: a process that calls process.exit(n), throws, or leaves a rejection
// unhandled while baton has work out (native tasks running, progress reports pending,
// pool workers busy), or does so from inside a task callback or an onProgress callback,
// ends with the expected code (n; 1 for an uncaught exception or unhandled rejection,
// with the error on stderr), by itself: no crash signal, no V8 "FATAL ERROR", no Rust
// panic, no hang. Each case is a child process (fixtures/exit/scenario.js).
//
// At exit Node joins libuv's threads, so native work still running used to hold the
// process up until it finished (process.exit() with three fibonacci(100_000_000)
// running took 27 s to end under load, 8 s on a quiet machine): baton-napi now raises
// the abort flag of every running work from a process 'exit' listener. The last test
// holds that; the scenarios keep their tasks short (fibonacci(2_000_000)) either way.

const test = require('ava')
const { execFile } = require('node:child_process')
const { join } = require('node:path')

const SCENARIO = join(__dirname, 'fixtures', 'exit', 'scenario.js')
const EXIT_CODE = 7 // scenario.js's
const MESSAGE = 'exit-paths: the planned failure' // scenario.js's
// A case ends in about a second; 30 s only catches a hang (the child is then killed).
const HANG_MS = 30_000
const CRASH = /FATAL ERROR|panicked|SIGSEGV|SIGABRT|Segmentation fault|Aborted|core dumped|napi_fatal_error|Check failed|Assertion failed|libc\+\+abi/

const ACTIONS = ['exit', 'uncaught', 'unhandled']
const PLACES = ['native', 'progress', 'pool', 'taskCallback', 'progressCallback', 'poolCallback']

// Two children at a time: the machine's cores, and each child starts threads of its own.
let running = 0
const waiting = []
async function limited(fn) {
  if (running >= 2) await new Promise((resolve) => waiting.push(resolve))
  running++
  try {
    return await fn()
  } finally {
    running--
    waiting.shift()?.()
  }
}

function runScenario(action, place) {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCENARIO, action, place], { encoding: 'utf8', timeout: HANG_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error?.code ?? 0, signal: error?.signal ?? null, killed: error?.killed ?? false, stdout, stderr })
    })
  })
}

for (const action of ACTIONS) {
  for (const place of PLACES) {
    test(`${action} while ${place}: the expected code, no crash, no hang`, async (t) => {
      const result = await limited(() => runScenario(action, place))
      t.false(result.killed, `no hang: killed after ${HANG_MS} ms`)
      t.is(result.signal, null, 'no crash signal')
      t.is(result.code, action === 'exit' ? EXIT_CODE : 1, `exit code; stderr:\n${result.stderr.slice(-2000)}`)
      t.notRegex(result.stderr, CRASH)
      t.notRegex(result.stdout, CRASH)
      if (action !== 'exit') t.true(result.stderr.includes(MESSAGE), `the error on stderr:\n${result.stderr.slice(-2000)}`)
      // The path was taken with baton's work still out.
      const inFlight = Number(/in flight: (\d+)/.exec(result.stdout)?.[1])
      t.true(inFlight >= 1, `work in flight at the action: ${result.stdout}`)
    })
  }
}

for (const action of ['exit', 'uncaught']) {
  test(`${action} while the longest native tasks have nearly all their work ahead: the process ends at once`, async (t) => {
    let started
    const result = await limited(
      () =>
        new Promise((resolve) => {
          started = Date.now()
          execFile(process.execPath, [join(__dirname, 'fixtures', 'exit', 'long-native.js'), action], { encoding: 'utf8', timeout: HANG_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
            resolve({ code: error?.code ?? 0, signal: error?.signal ?? null, stderr })
          })
        }),
    )
    const ms = Date.now() - started
    t.is(result.signal, null, 'no crash signal, no hang')
    t.is(result.code, action === 'exit' ? EXIT_CODE : 1, result.stderr.slice(-2000))
    t.notRegex(result.stderr, CRASH)
    // Not a timing target: the tasks have seconds of work left, which the exit must not
    // wait for (8 s or more before); 5 s leaves room for a loaded machine.
    t.true(ms < 5_000, `the process took ${ms} ms to end`)
  })
}
