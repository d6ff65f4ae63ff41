'use strict'

// Request-id logging through baton: an HTTP server keeps each request's id in an
// AsyncLocalStorage, computes a Fibonacci number on a native pool thread twice (callback
// form with progress reports from a Rust thread, then Promise form), sums its digits in
// a WorkerPool worker thread, and logs at every hop with an id read from the store,
// never passed in (in the worker too). A built-in load generator fires many concurrent
// requests and the run fails if any log line saw the wrong id.
//
//   npm run demo                      # 400 requests
//   node examples/request-id-logger.js --requests 2000
//   curl 'http://127.0.0.1:<port>/fib?n=5000'   (while the load runs)

const http = require('node:http')
const { fibonacci, WorkerPool } = require('..')
const { requestId: als } = require('./request-context')

const DEFAULT_N = 3000
const MAX_N = 100_000
const LOAD_MIN_N = 1000
const LOAD_MAX_N = 20_000
const OVERALL_TIMEOUT_MS = 60_000
const REQUEST_TIMEOUT_MS = 30_000
const SAMPLE_EVERY_REQUESTS = 100

function parseArgs(argv) {
  let requests = 400
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    let value
    if (arg === '--requests') value = argv[++i]
    else if (arg.startsWith('--requests=')) value = arg.slice('--requests='.length)
    else usage(`unknown argument: ${arg}`)
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1e6) {
      usage(`--requests wants an integer in [1, 1000000], got ${value}`)
    }
    requests = Number(value)
  }
  return { requests }
}

function usage(message) {
  console.error(`${message}\nusage: node examples/request-id-logger.js [--requests N]`)
  process.exit(2)
}

// ---------------------------------------------------------------------------------------
// Logger: the id comes from the store. The caller passes what it expects only so the
// demo can count mismatches; the printed id is always the one getStore() returned
// (in the worker hop, the one the worker's getStore() returned).

const stats = { lines: 0, wrong: 0, wrongSamples: [] }

function log(expectedId, hop, message = '', options = {}) {
  // Given (maybe undefined) by the worker hop, read here everywhere else.
  const seenId = 'seenId' in options ? options.seenId : als.getStore()
  const quiet = options.quiet ?? false
  stats.lines++
  const line = `[req ${seenId ?? '-'}] hop=${hop}${message ? ' ' + message : ''}`
  if (seenId !== expectedId) {
    stats.wrong++
    if (stats.wrongSamples.length < 5) stats.wrongSamples.push(`${line}   <-- expected req ${expectedId}`)
  }
  // Print a sample only: request 1 and every 100th request, without most progress lines.
  if (!quiet && (expectedId === 1 || expectedId % SAMPLE_EVERY_REQUESTS === 0)) console.log(`  ${line}`)
}

// ---------------------------------------------------------------------------------------
// Server

let nextId = 0
const pool = new WorkerPool({ filename: require.resolve('./digest-worker'), minThreads: 2, maxThreads: 2 })

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

function handle(req, res, id) {
  log(id, 'start', `${req.method} ${req.url}`)
  const url = new URL(req.url, 'http://localhost')
  if (req.method !== 'GET' || url.pathname !== '/fib') {
    sendJson(res, 404, { id, error: 'try GET /fib?n=5000' })
    log(id, 'end', 'status=404')
    return
  }
  const n = parseN(url)
  if (n === null) {
    sendJson(res, 400, { id, error: `n must be an integer in [0, ${MAX_N}]` })
    log(id, 'end', 'status=400')
    return
  }

  let progressCalls = 0
  const onProgress = (fraction) => {
    progressCalls++
    const quiet = progressCalls > 1 && fraction < 1 // still checked and counted, not printed
    log(id, 'progress', `${(fraction * 100).toFixed(2)}% (call ${progressCalls})`, { quiet })
  }
  fibonacci(n, { onProgress }, (error, fromCallback) => {
    log(id, 'callback', error ? `error=${error.message}` : `n=${n} after ${progressCalls} progress calls`)
    if (error) return fail(error)
    fibonacci(n)
      .then(async (fromPromise) => {
        log(id, 'await', `n=${n}`)
        if (fromPromise !== fromCallback) throw new Error('callback and Promise forms disagree')
        const digits = fromPromise.toString()
        const { seenId, sum } = await pool.run(digits)
        log(id, 'worker', `digit sum=${sum}`, { seenId })
        log(id, 'after worker')
        sendJson(res, 200, { id, n, digits: digits.length, lastDigits: digits.slice(-12), digitSum: sum })
        log(id, 'end', `status=200 digits=${digits.length}`)
      }, fail)
      .catch(fail)
  })

  function fail(error) {
    if (!res.headersSent) sendJson(res, 500, { id, error: String(error?.message ?? error) })
    log(id, 'end', `status=500 ${error?.message ?? error}`)
  }
}

const server = http.createServer((req, res) => {
  const id = ++nextId
  als.run(id, () => handle(req, res, id))
})

// ---------------------------------------------------------------------------------------
// Load generator (same process)

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

// Exact expectations computed in plain JS: F(n) for every requested n, in one pass.
function expectedFibonacci(ns) {
  const wanted = new Set(ns)
  const max = Math.max(...ns)
  const out = new Map()
  let a = 0n
  let b = 1n
  for (let i = 0; i <= max; i++) {
    if (wanted.has(i)) {
      const s = a.toString()
      let digitSum = 0
      for (const c of s) digitSum += Number(c)
      out.set(i, { digits: s.length, lastDigits: s.slice(-12), digitSum })
    }
    ;[a, b] = [b, a + b]
  }
  return out
}

async function runLoad(port, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const problems = []
  const ids = new Set()
  const randomN = () => LOAD_MIN_N + Math.floor(Math.random() * (LOAD_MAX_N - LOAD_MIN_N + 1))

  // [path, expected status, n or undefined]
  const jobs = []
  for (let i = 0; i < count; i++) {
    const n = randomN()
    jobs.push([`/fib?n=${n}`, 200, n])
  }
  for (const n of [0, 1, 10, 93, 94]) jobs.push([`/fib?n=${n}`, 200, n]) // small n, checked exactly
  jobs.push(['/fib', 200, DEFAULT_N])
  for (const bad of ['abc', '-1', '1.5', '', `${MAX_N + 1}`, '1e3']) jobs.push([`/fib?n=${bad}`, 400])
  jobs.push(['/nope', 404])

  const expected = expectedFibonacci(jobs.filter((j) => j[2] !== undefined).map((j) => j[2]))

  const started = process.hrtime.bigint()
  const results = await Promise.allSettled(jobs.map(([path]) => get(agent, port, path)))
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  agent.destroy()

  let ok = 0
  results.forEach((result, i) => {
    const [path, status, n] = jobs[i]
    if (result.status === 'rejected') return problems.push(`${path}: ${result.reason.message}`)
    const { status: got, body } = result.value
    if (got !== status) return problems.push(`${path}: status ${got}, expected ${status}: ${JSON.stringify(body)}`)
    if (!Number.isSafeInteger(body.id) || body.id < 1 || ids.has(body.id)) {
      return problems.push(`${path}: bad or duplicate id ${body.id}`)
    }
    ids.add(body.id)
    if (status === 200) {
      const want = expected.get(n)
      if (body.n !== n || body.digits !== want.digits || body.lastDigits !== want.lastDigits || body.digitSum !== want.digitSum) {
        return problems.push(`${path}: got n=${body.n} digits=${body.digits} ...${body.lastDigits} sum=${body.digitSum}, ` +
          `expected n=${n} digits=${want.digits} ...${want.lastDigits} sum=${want.digitSum}`)
      }
    }
    ok++
  })
  return { total: jobs.length, loadRequests: count, ok, problems, wallMs }
}

// ---------------------------------------------------------------------------------------

async function main() {
  const { requests } = parseArgs(process.argv.slice(2))

  let finished = false
  const watchdog = setTimeout(() => {
    console.error(`FAIL: no result after ${OVERALL_TIMEOUT_MS / 1000} s ` +
      `(${stats.lines} log lines, ${stats.wrong} wrong so far)`)
    process.exit(1)
  }, OVERALL_TIMEOUT_MS)
  process.on('exit', (code) => {
    if (!finished && code === 0) {
      console.error('FAIL: the event loop emptied before the run finished')
      process.exitCode = 1
    }
  })

  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
  const { port } = server.address()
  console.log(`baton request-id demo: http://127.0.0.1:${port}/fib?n=5000, ${requests} requests ` +
    `(n in [${LOAD_MIN_N}, ${LOAD_MAX_N}]) plus a few edge cases, node ${process.version}`)
  console.log(`log sample (request 1 and every ${SAMPLE_EVERY_REQUESTS}th; progress: first and last call only):`)

  const load = await runLoad(port, requests)
  await new Promise((resolve) => {
    server.close(resolve)
    server.closeAllConnections?.()
  })
  await pool.close()
  clearTimeout(watchdog)
  finished = true

  console.log('summary:')
  console.log(`  requests=${load.total} (load ${load.loadRequests} + ${load.total - load.loadRequests} edge cases) ` +
    `ok=${load.ok} failed=${load.total - load.ok}`)
  console.log(`  log lines=${stats.lines} wrong=${stats.wrong}`)
  console.log(`  wall time=${(load.wallMs / 1000).toFixed(2)} s`)

  const failures = []
  if (stats.wrong > 0) failures.push(`${stats.wrong} log line(s) saw another request's id (or none):`, ...stats.wrongSamples.map((s) => `  ${s}`))
  if (load.problems.length > 0) failures.push(`${load.problems.length} request(s) failed:`, ...load.problems.slice(0, 10).map((p) => `  ${p}`))
  if (failures.length > 0) {
    console.error(`FAIL\n${failures.join('\n')}`)
    process.exitCode = 1
  } else {
    console.log('OK: every log line carried its own request id')
  }
}

main().catch((error) => {
  console.error('FAIL:', error)
  process.exit(1)
})
