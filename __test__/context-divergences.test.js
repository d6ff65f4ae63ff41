'use strict'

// Where Node's two engines disagree, baton picks one behaviour (README, "Where Node's
// lines differ") and shows it on every Node line. These run against baton only.

const test = require('ava')
const { createHook } = require('node:async_hooks')
const { AsyncLocalStorage, AsyncResource } = require('..')

test('disable() removes the store from the current context only; callbacks scheduled earlier keep theirs', async (t) => {
  const als = new AsyncLocalStorage()
  const [timer, afterDisable, rerun] = await new Promise((resolve) => {
    setImmediate(() => {
      let timerSaw
      const timerDone = als.run('A', () => new Promise((r) => setTimeout(() => r((timerSaw = als.getStore())), 5)))
      als.enterWith('B')
      als.disable()
      const after = als.getStore()
      const again = als.run('C', () => als.getStore())
      timerDone.then(() => resolve([timerSaw, after, again]))
    })
  })
  t.is(timer, 'A', 'the hooks engine would give undefined here')
  t.is(afterDisable, undefined)
  t.is(rerun, 'C')
})

test('exit() gives the defaultValue: inside exit the storage has no entry', (t) => {
  const als = new AsyncLocalStorage({ defaultValue: 'default' })
  als.run('set', () => {
    t.is(als.exit(() => als.getStore()), 'default', 'AsyncContextFrame would give undefined here')
  })
  const variable = new (require('..').AsyncContext.Variable)({ defaultValue: 'd' })
  t.is(variable.run(undefined, () => variable.get()), undefined, 'an explicit undefined is an entry')
})

test('enterWith() inside runInAsyncScope() is not kept on the resource for later calls', (t) => {
  const als = new AsyncLocalStorage()
  const resource = als.run('construction', () => new AsyncResource('divergence.Resource'))
  resource.runInAsyncScope(() => als.enterWith('entered inside'))
  t.is(resource.runInAsyncScope(() => als.getStore()), 'construction', 'the hooks engine would keep "entered inside"')
})

test.serial('a second emitDestroy() does nothing: destroy is emitted once', async (t) => {
  const destroyed = []
  const hook = createHook({ destroy: (id) => destroyed.push(id) }).enable()
  try {
    const resource = new AsyncResource('divergence.Twice')
    t.is(resource.emitDestroy(), resource)
    t.is(resource.emitDestroy(), resource)
    await new Promise((resolve) => setImmediate(resolve))
    t.is(destroyed.filter((id) => id === resource.asyncId()).length, 1)
  } finally {
    hook.disable()
  }
})

test('new AsyncLocalStorage(null) throws ERR_INVALID_ARG_TYPE on every line', (t) => {
  const error = t.throws(() => new AsyncLocalStorage(null))
  t.is(error.code, 'ERR_INVALID_ARG_TYPE')
  t.is(error.message, 'The "options" argument must be of type object. Received null')
  t.is(new AsyncLocalStorage({ name: 'named' }).name, 'named')
  t.is(new AsyncLocalStorage().name, '')
})

test('withScope() exists on every line: dispose restores, is idempotent, and Symbol.dispose works', (t) => {
  const als = new AsyncLocalStorage()
  als.run('outer', () => {
    const scope = als.withScope('inner')
    t.is(als.getStore(), 'inner')
    scope.dispose()
    t.is(als.getStore(), 'outer')
    scope.dispose()
    t.is(als.getStore(), 'outer')
    const other = als.withScope('again')
    other[Symbol.dispose]()
    t.is(als.getStore(), 'outer')
  })
})

test('bound functions carry no deprecated asyncResource property, on every line', (t) => {
  const bound = new AsyncResource('divergence.Bind').bind(() => {})
  t.false('asyncResource' in bound)
  t.is(bound.name, 'bound')
})

test('AsyncResource adds nothing to the API of Node\'s class but what baton documents', (t) => {
  const { AsyncResource: NodeAsyncResource } = require('node:async_hooks')
  const own = (C) => [...Object.getOwnPropertyNames(C), ...Object.getOwnPropertyNames(C.prototype)]
  const extra = own(AsyncResource).filter((name) => !own(NodeAsyncResource).includes(name))
  t.deepEqual(extra, [])
})
