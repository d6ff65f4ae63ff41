'use strict'

// A polluted Object.prototype / Array.prototype changes nothing: options, run and close
// options and payloads are read as own properties only. Each check runs in a child
// process, so that the pollution cannot reach the other tests.
const test = require('ava')
const { runScript } = require('./pool-helpers')

test('options planted on Object.prototype (execArgv, filename, eval, name, env, ...) are not honoured', async (t) => {
  const report = JSON.parse(await runScript('polluted-options.js'))
  t.deepEqual(report, {
    // The default a + b task ran: not the planted filename or name, and no planted maxQueue 0.
    defaultTask: 3,
    noOptions: 4,
    // No --require of the attacker's module, no planted env, workerData or resourceLimits.
    preloaded: null,
    env: null,
    workerData: null,
    plantedHeapLimit: false,
    // No planted signal (it was aborted), name or transferList (the buffer stays).
    plainRun: 5,
    stolenLength: 8,
    // A hole is not Array.prototype's element.
    execArgvHole: 'ERR_INVALID_ARG_TYPE',
    transferListHole: 'ERR_INVALID_ARG_TYPE The "options.transferList[1]" property mus',
    // No planted force: close() let the queued tasks finish.
    afterClose: ['a', 'b', 'c'],
  })
})

test('property: payloads arrive as structuredClone makes them, holes and extra array properties too, with polluted prototypes', async (t) => {
  const report = JSON.parse(await runScript('polluted-wire.js'))
  t.log(`seed ${report.seed} (BATON_WIRE_SEED replays it); ${report.fastRuns} of ${report.runs} by the fast path`)
  t.is(report.error, undefined, JSON.stringify(report.mismatch))
  t.is(report.runs, 300)
  t.true(report.fastRuns > 0)
  // Neither side ran a setter planted on a prototype.
  t.is(report.setterCalls, 0)
})
