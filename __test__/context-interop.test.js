'use strict'

// baton's storages through Node's own resources, and Node's storages through baton's.

const test = require('ava')
const nodeAsyncHooks = require('node:async_hooks')
const dc = require('node:diagnostics_channel')
const { EventEmitterAsyncResource: NodeEmitterResource } = require('node:events')
const http = require('node:http')
const net = require('node:net')
const { PassThrough, pipeline } = require('node:stream')
const { promises: fsp } = require('node:fs')
const baton = require('..')

test('baton stores cross http: server handler and client callbacks', async (t) => {
  const als = new baton.AsyncLocalStorage()
  const server = http.createServer((req, res) => als.run(`server ${req.url}`, () => setImmediate(() => res.end(String(als.getStore())))))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  try {
    const [body, seen] = await als.run('client', () =>
      new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/x' }, (res) => {
          let data = ''
          res.on('data', (c) => (data += c))
          res.on('end', () => resolve([data, als.getStore()]))
        }).on('error', reject)
      }),
    )
    t.is(body, 'server /x')
    t.is(seen, 'client')
  } finally {
    server.close()
  }
})

test('baton stores cross net sockets, fs promises and stream pipeline callbacks', async (t) => {
  const als = new baton.AsyncLocalStorage()
  const server = net.createServer((socket) => socket.end('hi'))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const seen = await als.run('net', () =>
      new Promise((resolve) => {
        const socket = net.connect(server.address().port, '127.0.0.1')
        socket.on('data', () => {})
        socket.on('end', () => resolve(als.getStore()))
      }),
    )
    t.is(seen, 'net')
  } finally {
    server.close()
  }
  t.is(await als.run('fs', async () => (await fsp.readFile(__filename), als.getStore())), 'fs')
  const piped = await als.run('stream', () =>
    new Promise((resolve) => {
      const source = new PassThrough()
      pipeline(source, new PassThrough().resume(), () => resolve(als.getStore()))
      setImmediate(() => source.end('data'))
    }),
  )
  t.is(piped, 'stream')
})

test("baton stores are seen by Node's EventEmitterAsyncResource listeners (creation context)", (t) => {
  const als = new baton.AsyncLocalStorage()
  const emitter = als.run('created', () => new NodeEmitterResource({ name: 'interop.Emitter' }))
  let seen
  emitter.on('e', () => (seen = als.getStore()))
  als.run('emitted', () => emitter.emit('e'))
  t.is(seen, 'created')
})

test('diagnostics_channel bindStore/runStores drive a baton storage (run on 20-24, withScope on 26)', (t) => {
  const als = new baton.AsyncLocalStorage()
  const channel = dc.channel(`baton.interop.${Math.random()}`)
  channel.bindStore(als, (message) => ({ span: message.id }))
  const inside = channel.runStores({ id: 7 }, () => als.getStore())
  t.deepEqual(inside, { span: 7 })
  t.is(als.getStore(), undefined)
  channel.unbindStore(als)
})

test("Node's AsyncLocalStorage propagates through baton's AsyncResource and EventEmitterAsyncResource", (t) => {
  const nodeAls = new nodeAsyncHooks.AsyncLocalStorage()
  const resource = nodeAls.run('node store', () => new baton.AsyncResource('interop.Resource'))
  t.is(resource.runInAsyncScope(() => nodeAls.getStore()), 'node store')
  const emitter = nodeAls.run('node emitter', () => new baton.EventEmitterAsyncResource({ name: 'interop.E' }))
  let seen
  emitter.on('e', () => (seen = nodeAls.getStore()))
  emitter.emit('e')
  t.is(seen, 'node emitter')
  resource.emitDestroy()
  emitter.emitDestroy()
})

test("baton's AsyncLocalStorage.bind/snapshot capture Node's stores too, and Node's capture baton's", (t) => {
  const nodeAls = new nodeAsyncHooks.AsyncLocalStorage()
  const batonAls = new baton.AsyncLocalStorage()
  const [viaBaton, viaNode] = nodeAls.run('n', () =>
    batonAls.run('b', () => [baton.AsyncLocalStorage.snapshot(), nodeAsyncHooks.AsyncLocalStorage.snapshot()]),
  )
  const read = () => [nodeAls.getStore(), batonAls.getStore()]
  t.deepEqual(viaBaton(read), ['n', 'b'])
  t.deepEqual(viaNode(read), ['n', 'b'])
})

test("baton's tasks call back with baton's and Node's stores", async (t) => {
  const batonAls = new baton.AsyncLocalStorage()
  const nodeAls = new nodeAsyncHooks.AsyncLocalStorage()
  const seen = await new Promise((resolve) =>
    batonAls.run('baton', () =>
      nodeAls.run('node', () =>
        baton.fibonacci(20_000, { onProgress: () => {} }, () => resolve([batonAls.getStore(), nodeAls.getStore()])),
      ),
    ),
  )
  t.deepEqual(seen, ['baton', 'node'])
  const variable = new baton.AsyncContext.Variable({ name: 'v' })
  t.is(await variable.run('var', () => baton.performAsyncTask().then(() => variable.get())), 'var')
})

test('AsyncContext.Snapshot and Variable follow the proposal', (t) => {
  const { Variable, Snapshot } = baton.AsyncContext
  const v = new Variable({ name: 'request', defaultValue: 'none' })
  t.is(v.name, 'request')
  t.is(v.get(), 'none')
  const snapshot = v.run('captured', () => new Snapshot())
  t.deepEqual(v.run('now', () => snapshot.run((x) => [v.get(), x], 1)), ['captured', 1])
  const wrapped = v.run('wrapped', () => Snapshot.wrap(function () {
    return [v.get(), this]
  }))
  t.deepEqual(wrapped.call('receiver'), ['wrapped', 'receiver'])
  t.is(t.throws(() => Snapshot.wrap(1)).code, 'ERR_INVALID_ARG_TYPE')
})
