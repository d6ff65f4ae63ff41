'use strict'

// diagnostics_channel's TracingChannel with bindStore on a baton storage: every event
// of a traced call, and the traced function, its callback and its continuation, see
// the store the start event bound; also when what is traced is baton's own native
// task. Each scenario runs against Node's AsyncLocalStorage too, which must agree
// (Node 20-24 call the storage's run(), 26 its withScope()).
const test = require('ava')
const { AsyncLocalStorage: NodeAsyncLocalStorage } = require('node:async_hooks')
const dc = require('node:diagnostics_channel')
const { AsyncLocalStorage, failingTask, fibonacci } = require('..')

let channels = 0

/** A fresh TracingChannel whose start binds `{ id: message.id }` into `storage`; every event's store is recorded. */
function traced(storage) {
  const channel = dc.tracingChannel(`baton:test:${++channels}`)
  const seen = []
  channel.start.bindStore(storage, (message) => ({ id: message.id }))
  const record = (event) => (message) => seen.push([event, message.id, storage.getStore()?.id])
  const subscribers = Object.fromEntries(['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((event) => [event, record(event)]))
  channel.subscribe(subscribers)
  return { channel, seen, storage }
}

for (const [kind, Storage] of [['baton', AsyncLocalStorage], ['node', NodeAsyncLocalStorage]]) {
  test(`tracePromise: start, end, asyncStart, asyncEnd and the traced async function see the bound store (${kind})`, async (t) => {
    const { channel, seen, storage } = traced(new Storage())
    const value = await channel.tracePromise(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      seen.push(['fn', storage.getStore()?.id])
      return 5
    }, { id: 'p' })
    t.is(value, 5)
    t.is(storage.getStore(), undefined) // not past the traced call
    t.deepEqual(seen, [['start', 'p', 'p'], ['end', 'p', 'p'], ['fn', 'p'], ['asyncStart', 'p', 'p'], ['asyncEnd', 'p', 'p']])
  })

  test(`tracePromise of a native task: its continuation sees the bound store, a failure's error event too (${kind})`, async (t) => {
    const { channel, seen, storage } = traced(new Storage())
    const message = { id: 'fib' }
    t.is(await channel.tracePromise(() => fibonacci(90).then((value) => {
      seen.push(['then', storage.getStore()?.id])
      return value
    }), message), 2880067194370816120n)
    t.is(message.result, 2880067194370816120n)
    await t.throwsAsync(channel.tracePromise(() => failingTask(), { id: 'fail' }), { message: 'I am a failing task' })
    t.deepEqual(seen, [
      ['start', 'fib', 'fib'], ['end', 'fib', 'fib'], ['then', 'fib'], ['asyncStart', 'fib', 'fib'], ['asyncEnd', 'fib', 'fib'],
      ['start', 'fail', 'fail'], ['end', 'fail', 'fail'], ['error', 'fail', 'fail'], ['asyncStart', 'fail', 'fail'], ['asyncEnd', 'fail', 'fail'],
    ])
  })

  test(`traceCallback of a native task (fibonacci, callback form, with progress): every event and the callback see the bound store (${kind})`, async (t) => {
    const { channel, seen, storage } = traced(new Storage())
    const onProgress = () => {
      if (!seen.some(([event]) => event === 'progress')) seen.push(['progress', storage.getStore()?.id])
    }
    const value = await new Promise((resolve, reject) => {
      channel.traceCallback(fibonacci, -1, { id: 'cb' }, null, 5000, { onProgress }, (error, result) => {
        seen.push(['callback', storage.getStore()?.id])
        if (error) reject(error)
        else resolve(result)
      })
    })
    t.is(value.toString().length, 1045)
    t.deepEqual(seen, [['start', 'cb', 'cb'], ['end', 'cb', 'cb'], ['progress', 'cb'], ['asyncStart', 'cb', 'cb'], ['callback', 'cb'], ['asyncEnd', 'cb', 'cb']])
  })

  test(`traceCallback: asyncStart's own bound store is what the callback sees; the error event sees start's (${kind})`, async (t) => {
    const { channel, seen, storage } = traced(new Storage())
    channel.asyncStart.bindStore(storage, (message) => ({ id: `${message.id}:async` }))
    await new Promise((resolve) => {
      channel.traceCallback(failingTask, -1, { id: 'e' }, null, (error) => {
        seen.push(['callback', storage.getStore()?.id, error.message])
        resolve()
      })
    })
    t.deepEqual(seen, [
      ['start', 'e', 'e'], ['end', 'e', 'e'], ['error', 'e', 'e'],
      ['asyncStart', 'e', 'e:async'], ['callback', 'e:async', 'I am a failing task'], ['asyncEnd', 'e', 'e:async'],
    ])
  })
}

test('concurrent traced calls each see their own bound store (baton)', async (t) => {
  const { channel, storage } = traced(new AsyncLocalStorage())
  const ids = Array.from({ length: 50 }, (_, i) => `call-${i}`)
  const seen = await Promise.all(ids.map((id, i) =>
    new Promise((resolve, reject) => channel.traceCallback(fibonacci, -1, { id }, null, 1000 + i * 100, (error) => (error ? reject(error) : resolve(storage.getStore()?.id)))),
  ))
  t.deepEqual(seen, ids)
})
