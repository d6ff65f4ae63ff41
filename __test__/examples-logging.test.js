'use strict'

// The request-logging examples, run as they are: each server starts on loopback, gets a
// few hundred concurrent requests, and every line pino wrote for a request (main thread
// and worker threads alike) must carry that request's own id, at every hop.
const test = require('ava')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const http = require('node:http')
const { join } = require('node:path')

const REQUESTS = 300
const HOPS = ['request', 'progress', 'callback', 'await', 'worker', 'after worker', 'response']

/** Starts an example; resolves with its port and a function that stops it and gives every line it logged. */
async function start(t, file) {
  const child = spawn(process.execPath, [join(__dirname, '..', 'examples', file)], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => child.exitCode === null && child.kill('SIGKILL'))
  let text = ''
  child.stdout.setEncoding('utf8')
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      text += chunk
      const match = /"msg":"listening","url":"http:\/\/127\.0\.0\.1:(\d+)\//.exec(text)
      if (match !== null) resolve(Number(match[1]))
    })
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening:\n${text}`)))
  })
  const stop = async () => {
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    t.is(code, 0)
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line))
  }
  return { port, stop }
}

function get(agent, port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }))
    }).on('error', reject)
  })
}

for (const file of ['express-pino.js', 'fastify-pino.js']) {
  test(`examples/${file}: under ${REQUESTS} concurrent requests every log line carries its own request's id, at every hop`, async (t) => {
    const { port, stop } = await start(t, file)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 100 })
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) => get(agent, port, `/fib?n=${1000 + ((i * 37) % 9000)}&tag=t${i}`)),
    )
    agent.destroy()
    const lines = await stop()

    const idOf = new Map()
    for (const [i, { status, body }] of responses.entries()) {
      t.is(status, 200)
      t.is(body.tag, `t${i}`)
      t.is(typeof body.reqId, 'string')
      idOf.set(body.tag, body.reqId)
    }
    t.is(new Set(idOf.values()).size, REQUESTS, 'every request has an id of its own')

    const requestLines = lines.filter((line) => line.tag !== undefined)
    const wrong = requestLines.filter((line) => line.reqId !== idOf.get(line.tag))
    t.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${requestLines.length} lines carry another request's id, or none`)
    // Every request logged at every hop, its worker hop from a worker thread.
    const hopsOf = new Map()
    for (const line of requestLines) {
      if (!hopsOf.has(line.tag)) hopsOf.set(line.tag, new Set())
      hopsOf.get(line.tag).add(line.hop)
      t.is(line.thread !== 0, line.hop === 'worker')
    }
    t.is(hopsOf.size, REQUESTS)
    for (const hops of hopsOf.values()) t.deepEqual([...hops].sort(), [...HOPS].sort())
    // The rest are the server's own lines, outside any request.
    t.deepEqual(lines.filter((line) => line.tag === undefined).map((line) => [line.msg, line.reqId]), [
      ['listening', undefined],
      ['closing', undefined],
      ['closed', undefined],
    ])
  })
}
