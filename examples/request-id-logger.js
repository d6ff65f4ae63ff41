'use strict'

// Request-id logging through baton: an HTTP server on loopback keeps each request's id
// in an AsyncLocalStorage, computes a Fibonacci number on a native pool thread twice
// (callback form with progress reports from a Rust thread, then Promise form), sums its
// digits in a worker thread, and logs at every hop with the id read from the store,
// never passed in (in the worker too). A built-in load generator sends thousands of
// requests, a bounded number at a time; the report counts, hop by hop, the log lines
// whose id was not the request's own, and the run fails unless there are none.
// `--compare` runs the same scenario on the stacks of examples/stacks.js and shows
// where each loses the id.

const http = require('node:http')
const { createHistogram, performance } = require('node:perf_hooks')
const { stacks } = require('./stacks')

const USAGE = `usage: npm run demo -- [options]   (or: node examples/request-id-logger.js [options])

  --requests N      requests to send, 1-100000 (default 5000), plus 13 edge cases
  --concurrency N   requests in flight at once, 1-1000 (default 64)
  --threads N       worker threads of the pool, 1-16 (default 2)
  --compare         run the same scenario with node:async_hooks' AsyncLocalStorage, the
                    plain napi-rs path and piscina too, and show where each loses the id
  --help            this text

Exits 0 when every log line of baton's run carried its own request id and every
request was answered correctly, 1 otherwise, 2 on a bad option.`

const FLAGS = {
  requests: { min: 1, max: 100_000, default: 5000 },
  concurrency: { min: 1, max: 1000, default: 64 },
  threads: { min: 1, max: 16, default: 2 },
}
const HOPS = ['start', 'progress', 'callback', 'await', 'worker', 'after worker', 'end']
const DEFAULT_N = 3000
const MAX_N = 100_000
const LOAD_MIN_N = 1000
const LOAD_MAX_N = 20_000
// Bounds that turn a hang into a failure: no request needs seconds on loopback.
const RUN_TIMEOUT_MS = 120_000
const REQUEST_TIMEOUT_MS = 30_000
const PROGRESS_EVERY_MS = { tty: 100, plain: 2000 }

function usage(message) {
  console.error(`${message}\n\n${USAGE}`)
  process.exit(2)
}

function parseArgs(argv) {
  const options = { compare: false }
  for (const [key, flag] of Object.entries(FLAGS)) options[key] = flag.default
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE)
      process.exit(0)
    }
    if (arg === '--compare') {
      options.compare = true
      continue
    }
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg)
    const flag = match && Object.hasOwn(FLAGS, match[1]) ? FLAGS[match[1]] : undefined
    if (flag === undefined) usage(`unknown argument: ${arg}`)
    const value = match[2] ?? argv[++i]
    if (value === undefined || !/^\d{1,7}$/.test(value) || Number(value) < flag.min || Number(value) > flag.max) {
      usage(`--${match[1]} wants an integer from ${flag.min} to ${flag.max}, got ${value ?? 'nothing'}`)
    }
    options[match[1]] = Number(value)
  }
  return options
}

// ---------------------------------------------------------------------------------------
// Log: the id comes from the store. The caller passes what it expects only so the demo
// can count mismatches; the line shows the id getStore() returned (in the worker hop,
// the one the worker's getStore() returned).

function createLog(storage) {
  const hops = new Map(HOPS.map((hop) => [hop, { lines: 0, wrong: 0, sinceStart: createHistogram() }]))
  const log = { lines: 0, wrong: 0, wrongSamples: [], firstRequest: [], hops }
  // `seen` is given by the worker hop only: { id } as the worker read it.
  log.line = (request, hop, message, seen = { id: storage.getStore() }) => {
    const seenId = seen.id
    const text = `[req ${seenId ?? '-'}] hop=${hop}${message ? ' ' + message : ''}`
    const stats = hops.get(hop)
    log.lines++
    stats.lines++
    stats.sinceStart.record(Math.max(1, Math.round((performance.now() - request.started) * 1000)))
    if (seenId !== request.id) {
      log.wrong++
      stats.wrong++
      if (log.wrongSamples.length < 5) log.wrongSamples.push(`${text}   <-- expected req ${request.id}`)
    }
    if (request.id === 1) log.firstRequest.push(text)
  }
  return log
}

// ---------------------------------------------------------------------------------------
// Server: one request's path through every hop.

function sendJson(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function parseN(url) {
  const raw = url.searchParams.get('n')
  if (raw === null) return DEFAULT_N
  if (!/^\d{1,9}$/.test(raw)) return null
  const n = Number(raw)
  return n <= MAX_N ? n : null
}

function createServer(stack, pool, log) {
  let nextId = 0
  const { tasks, storageKey } = stack

  function handle(req, res, request) {
    const { id } = request
    log.line(request, 'start', `${req.method} ${req.url}`)
    const url = new URL(req.url, 'http://localhost')
    if (req.method !== 'GET' || url.pathname !== '/fib') {
      sendJson(res, 404, { id, error: 'try GET /fib?n=5000' })
      return log.line(request, 'end', 'status=404')
    }
    const n = parseN(url)
    if (n === null) {
      sendJson(res, 400, { id, error: `n must be an integer in [0, ${MAX_N}]` })
      return log.line(request, 'end', 'status=400')
    }
    const fail = (error) => {
      if (!res.headersSent) sendJson(res, 500, { id, error: String(error?.message ?? error) })
      log.line(request, 'end', `status=500 ${error?.message ?? error}`)
    }
    const onProgress = (fraction) => log.line(request, 'progress', `${(fraction * 100).toFixed(1)}%`)
    tasks.withProgress(n, onProgress, (error, fromCallback) => {
      log.line(request, 'callback', error ? `error=${error.message}` : `n=${n}`)
      if (error) return fail(error)
      tasks.promise(n).then(async (fromPromise) => {
        log.line(request, 'await', `n=${n}`)
        if (fromPromise !== fromCallback) throw new Error('callback and Promise forms disagree')
        const digits = fromPromise.toString()
        const { seenId, sum } = await stack.pool.run(pool, { digits, storage: storageKey })
        log.line(request, 'worker', `digit sum=${sum}`, { id: seenId })
        log.line(request, 'after worker')
        sendJson(res, 200, { id, n, digits: digits.length, lastDigits: digits.slice(-12), digitSum: sum })
        log.line(request, 'end', `status=200 digits=${digits.length}`)
      }).catch(fail)
    })
  }

  return http.createServer((req, res) => {
    const request = { id: ++nextId, started: performance.now() }
    stack.storage.run(request.id, () => handle(req, res, request))
  })
}

// ---------------------------------------------------------------------------------------
// Load generator (same process): `concurrency` clients, each sending its next request
// when the last one is answered.

function get(agent, port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        try {
          resolve({ status: res.statusCode, body: JSON.parse(text) })
        } catch {
          reject(new Error(`${path}: status ${res.statusCode}, body is not JSON: ${text.slice(0, 80)}`))
        }
      })
      res.on('error', reject)
    })
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
  })
}

/** [path, expected status, n or undefined]: the load, then edge cases checked exactly. */
function jobs(count) {
  const list = []
  for (let i = 0; i < count; i++) {
    const n = LOAD_MIN_N + Math.floor(Math.random() * (LOAD_MAX_N - LOAD_MIN_N + 1))
    list.push([`/fib?n=${n}`, 200, n])
  }
  for (const n of [0, 1, 10, 93, 94]) list.push([`/fib?n=${n}`, 200, n])
  list.push(['/fib', 200, DEFAULT_N])
  for (const bad of ['abc', '-1', '1.5', '', `${MAX_N + 1}`, '1e3']) list.push([`/fib?n=${bad}`, 400])
  list.push(['/nope', 404])
  return list
}

function check(job, result, expected, ids) {
  const [path, status, n] = job
  if (result.status === 'rejected') return `${path}: ${result.reason.message}`
  const { status: got, body } = result.value
  if (got !== status) return `${path}: status ${got}, expected ${status}: ${JSON.stringify(body)}`
  if (!Number.isSafeInteger(body.id) || body.id < 1 || ids.has(body.id)) return `${path}: bad or duplicate id ${body.id}`
  ids.add(body.id)
  if (status !== 200) return null
  const want = expected.get(n)
  let digitSum = 0
  for (const c of want) digitSum += c.charCodeAt(0) - 48
  if (body.n === n && body.digits === want.length && body.lastDigits === want.slice(-12) && body.digitSum === digitSum) {
    return null
  }
  return `${path}: got n=${body.n} digits=${body.digits} ...${body.lastDigits} sum=${body.digitSum}, ` +
    `expected n=${n} digits=${want.length} ...${want.slice(-12)} sum=${digitSum}`
}

async function runLoad(port, list, options, expected, onAnswer) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency })
  const latency = createHistogram()
  const results = new Array(list.length)
  let next = 0
  async function client() {
    while (next < list.length) {
      const i = next++
      const started = performance.now()
      results[i] = await get(agent, port, list[i][0]).then(
        (value) => ({ status: 'fulfilled', value }),
        (reason) => ({ status: 'rejected', reason }),
      )
      latency.record(Math.max(1, Math.round((performance.now() - started) * 1000)))
      onAnswer()
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(options.concurrency, list.length) }, client))
  const wallMs = performance.now() - started
  agent.destroy()
  const ids = new Set()
  const problems = results.map((result, i) => check(list[i], result, expected, ids)).filter((p) => p !== null)
  return { total: list.length, problems, wallMs, latency }
}

// ---------------------------------------------------------------------------------------
// Progress while a run goes: a bar on a terminal, a line every few seconds elsewhere.

function startProgress(label, total, log) {
  const tty = Boolean(process.stderr.isTTY)
  let done = 0
  const draw = () => {
    if (tty) {
      const width = 30
      const filled = Math.round((done / total) * width)
      process.stderr.write(`\r  ${label.padEnd(16)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` +
        `${done}/${total} requests, ${log.wrong} wrong ids `)
    } else {
      console.error(`  ${label}: ${done}/${total} requests answered, ${log.wrong} wrong ids so far`)
    }
  }
  const timer = setInterval(draw, tty ? PROGRESS_EVERY_MS.tty : PROGRESS_EVERY_MS.plain)
  return {
    answered: () => done++,
    stop() {
      clearInterval(timer)
      if (tty) {
        draw()
        process.stderr.write('\n')
      }
    },
  }
}

// ---------------------------------------------------------------------------------------

async function runStack(stack, options) {
  const log = createLog(stack.storage)
  const pool = stack.pool.create(options.threads)
  const server = createServer(stack, pool, log)
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
  const list = jobs(options.requests)
  const expected = stack.tasks.expected(list.filter((job) => job[2] !== undefined).map((job) => job[2]))
  const progress = startProgress(stack.name, list.length, log)
  let load
  try {
    load = await runLoad(server.address().port, list, options, expected, progress.answered)
  } finally {
    progress.stop()
    await new Promise((resolve) => {
      server.close(resolve)
      server.closeAllConnections()
    })
    await stack.pool.close(pool)
  }
  return { ...load, log }
}

const ms = (histogram, percentile) => (histogram.count === 0 ? '-' : (histogram.percentile(percentile) / 1000).toFixed(2))

function report(result, options) {
  const { log, latency } = result
  const lines = [
    `requests   ${result.total} (${options.requests} + ${result.total - options.requests} edge cases), ` +
      `${result.total - result.problems.length} ok, ${result.problems.length} failed, ` +
      `${(result.wallMs / 1000).toFixed(2)} s (${Math.round(result.total / (result.wallMs / 1000))} requests/s)`,
    `latency    p50 ${ms(latency, 50)} ms, p99 ${ms(latency, 99)} ms (request sent to response read)`,
    `log lines  ${log.lines}, wrong ids ${log.wrong}`,
    '',
    `${'hop'.padEnd(14)}${'lines'.padStart(8)}${'wrong'.padStart(8)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}   (since the request arrived)`,
  ]
  for (const [hop, stats] of log.hops) {
    lines.push(`${hop.padEnd(14)}${String(stats.lines).padStart(8)}${String(stats.wrong).padStart(8)}` +
      `${ms(stats.sinceStart, 50).padStart(10)}${ms(stats.sinceStart, 99).padStart(10)}`)
  }
  // Request 1's log, its progress lines shortened to the first and the last.
  const progress = log.firstRequest.flatMap((line, i) => (line.includes(' hop=progress') ? [i] : []))
  const shown = log.firstRequest.filter((line, i) => !progress.includes(i) || i === progress[0] || i === progress.at(-1))
  lines.push('', 'log of request 1:', ...shown.map((line) => `  ${line}`))
  if (progress.length > 2) lines.push(`  (and ${progress.length - 2} more progress lines)`)
  console.log(lines.join('\n'))
}

/** Per hop and stack: `kept`, `lost k/n` (lines whose id was not the request's) or `-` (no such line). */
function compareTable(runs) {
  const cell = (stats) => (stats.lines === 0 ? '-' : stats.wrong === 0 ? 'kept' : `lost ${stats.wrong}/${stats.lines}`)
  const widths = runs.map(({ stack }) => Math.max(18, stack.name.length + 2))
  const row = (first, cells) => `${first.padEnd(14)}${cells.map((text, i) => text.padEnd(widths[i])).join('')}`.trimEnd()
  const lines = [row('hop', runs.map(({ stack }) => stack.name))]
  for (const hop of HOPS) lines.push(row(hop, runs.map(({ result }) => (result ? cell(result.log.hops.get(hop)) : 'skipped'))))
  return lines.join('\n')
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const watchdog = setTimeout(() => {
    console.error(`FAIL: no result after ${RUN_TIMEOUT_MS / 1000} s`)
    process.exit(1)
  }, RUN_TIMEOUT_MS * (options.compare ? 4 : 1))
  let finished = false
  process.on('exit', (code) => {
    if (!finished && code === 0) {
      console.error('FAIL: the event loop emptied before the run finished')
      process.exitCode = 1
    }
  })

  console.log(`baton request-id demo, node ${process.version}: ${options.requests} requests (n in ` +
    `[${LOAD_MIN_N}, ${LOAD_MAX_N}]) plus edge cases, ${options.concurrency} at a time, ` +
    `${options.threads} worker thread(s), on 127.0.0.1`)
  const runs = []
  for (const stack of stacks(options.compare)) {
    if (stack.unavailable) {
      console.log(`${stack.name}: skipped, ${stack.unavailable}`)
      runs.push({ stack, result: null })
      continue
    }
    runs.push({ stack, result: await runStack(stack, options) })
  }
  clearTimeout(watchdog)
  finished = true

  const [baton] = runs
  console.log('')
  report(baton.result, options)
  if (options.compare) {
    console.log([
      '',
      'where the request id is, hop by hop; each other stack swaps one part of baton\'s:',
      '  node:async_hooks  Node\'s AsyncLocalStorage instead of baton\'s',
      '  napi-rs           the plain napi-rs AsyncTask and ThreadsafeFunction instead of baton\'s tasks',
      '  piscina           piscina instead of baton\'s WorkerPool',
      'once a callback runs without the id, the hops it starts run without it too',
      '',
    ].join('\n'))
    console.log(compareTable(runs))
    for (const { stack, result } of runs.slice(1)) {
      if (result?.problems.length) console.log(`${stack.name}: ${result.problems.length} request(s) failed, e.g. ${result.problems[0]}`)
    }
  }

  const { log, problems } = baton.result
  const failures = []
  if (log.wrong > 0) failures.push(`${log.wrong} log line(s) saw another request's id (or none):`, ...log.wrongSamples.map((s) => `  ${s}`))
  if (problems.length > 0) failures.push(`${problems.length} request(s) failed:`, ...problems.slice(0, 10).map((p) => `  ${p}`))
  if (failures.length > 0) {
    console.error(`\nFAIL\n${failures.join('\n')}`)
    process.exitCode = 1
  } else {
    console.log('\nOK: every log line of baton\'s run carried its own request id')
  }
}

main().catch((error) => {
  console.error('FAIL:', error)
  process.exit(1)
})
