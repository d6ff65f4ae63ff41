'use strict'

// Where Node's two engines disagree, baton picks one behaviour (README, "Where Node's
// lines differ") and shows it on every Node line. These run against baton only.

const test = require('ava')
const nodeAsyncHooks = require('node:async_hooks')
const { createHook } = nodeAsyncHooks
const baton = require('..')
const { AsyncLocalStorage, AsyncResource } = baton

const { hooksEngine } = require('./helpers')

test("baton's engine is the one Node runs here: the line's default, or the one a flag picks", (t) => {
  const major = Number(process.versions.node.split('.')[0])
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  const frames = major >= 24 ? !flags.includes('--no-async-context-frame') : major === 22 && flags.includes('--experimental-async-context-frame')
  t.is(require('../lib/context/engine').engine, frames ? 'AsyncContextFrame' : 'async_hooks')
})

/**
 * Each disable() scenario: what it leaves for the callbacks it names, read through `a`.
 * Node 24/26 (AsyncContextFrame) give exactly `disabledInPlace`, but for one case.
 */
function disableScenarios({ AsyncLocalStorage }) {
  const a = new AsyncLocalStorage()
  const b = new AsyncLocalStorage()
  const seen = {}
  const pending = []
  const record = (key) => {
    let done
    pending.push(new Promise((resolve) => (done = resolve)))
    return () => done((seen[key] = a.getStore()))
  }
  a.run('A', () => {
    setTimeout(record('timer in the same context'))
    a.disable()
    seen['after, in the same run'] = a.getStore()
  })
  a.run('A', () => {
    const promise = Promise.resolve().then(record('promise reaction'))
    process.nextTick(record('nextTick'))
    a.disable()
    return promise
  })
  a.run('A', () => {
    a.disable()
    setTimeout(record('scheduled after disable'))
  })
  a.run('A', () => {
    setTimeout(record('timer before another storage\'s run'))
    b.run('B', () => {
      setTimeout(record('timer in that run'))
      a.disable()
    })
    seen['after that run returned'] = a.getStore()
  })
  a.run('A', () => {
    b.run('B', () => setTimeout(record('timer in a nested run')))
    a.disable()
  })
  a.run('A', () => {
    setTimeout(record('sibling before'))
    setTimeout(() => a.disable())
    setTimeout(record('sibling after'))
  })
  a.run('A', () => setTimeout(record('timer, disable at top level')))
  a.disable()
  seen['a later run'] = a.run('again', () => a.getStore())
  return Promise.all(pending).then(() => seen)
}

const disabledInPlace = {
  'timer in the same context': undefined,
  'after, in the same run': undefined,
  'promise reaction': undefined,
  nextTick: undefined,
  'scheduled after disable': undefined,
  "timer before another storage's run": 'A',
  'timer in that run': undefined,
  'after that run returned': undefined,
  'timer in a nested run': 'A',
  'sibling before': 'A',
  'sibling after': undefined,
  'timer, disable at top level': 'A',
  'a later run': 'again',
}

test('disable() removes the store from the current context in place: what captured it loses it, contexts made before or elsewhere keep it', async (t) => {
  t.deepEqual(await new Promise((resolve) => setImmediate(() => resolve(disableScenarios(baton)))), disabledInPlace)
})

// Where Node runs AsyncContextFrame (24/26, 22 with --experimental-async-context-frame),
// it must give the same.
if (!hooksEngine) {
  test('node on AsyncContextFrame agrees with those disable() scenarios', async (t) => {
    t.deepEqual(await new Promise((resolve) => setImmediate(() => resolve(disableScenarios(nodeAsyncHooks)))), disabledInPlace)
  })
}

test('disable() after a nested run() returned in the same context also reaches callbacks scheduled before that run', async (t) => {
  const als = new AsyncLocalStorage()
  const other = new AsyncLocalStorage()
  const seen = await new Promise((resolve) => {
    setImmediate(() => als.run('A', () => {
      setTimeout(() => resolve(als.getStore()))
      other.run('B', () => {})
      als.disable()
    }))
  })
  t.is(seen, undefined, "AsyncContextFrame gives 'A': its run() leaves a new context when it returns")
})

test('a disabled storage that is dropped is garbage-collected', async (t) => {
  const refs = await new Promise((resolve) => {
    setImmediate(() => {
      const made = []
      for (let i = 0; i < 3; i++) {
        const storage = new AsyncLocalStorage()
        if (i === 0) storage.run({ i }, () => storage.disable())
        if (i === 1) storage.enterWith({ i })
        if (i === 1) storage.disable()
        if (i === 2) storage.run({ i }, () => setTimeout(() => storage.disable()))
        made.push(new WeakRef(storage))
      }
      setTimeout(() => resolve(made), 5)
    })
  })
  // Not deref() before gc(): that keeps the target alive until the end of the job.
  for (let i = 0; i < 5; i++) {
    global.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.deepEqual(refs.map((ref) => ref.deref()), [undefined, undefined, undefined])
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

test('options are read as own properties only: a polluted Object.prototype changes nothing', (t) => {
  const { execFileSync } = require('node:child_process')
  const { join } = require('node:path')
  // The same flags as this process (--expose-gc, and the engine the matrix chose).
  const out = execFileSync(process.execPath, [...process.execArgv, join(__dirname, 'fixtures', 'polluted-options.js')], { encoding: 'utf8', timeout: 30_000 })
  t.deepEqual(JSON.parse(out), {
    storage: [['', null], ['', null]],
    variable: ['', null],
    resourceTrigger: true,
    namelessEmitter: 'ERR_INVALID_ARG_TYPE',
    emitterTrigger: true,
    emitterCapturesRejections: false,
    listed: ['Emitter', 'fixture.Polluted'],
    afterCollection: [],
  })
})

test("a storage's name is a string made as Node 24/26 make it, on every line; options are an object", (t) => {
  t.is(new AsyncLocalStorage({ name: 5 }).name, '5')
  t.is(new AsyncLocalStorage({ name: null }).name, 'null')
  t.is(new AsyncLocalStorage({ name: undefined }).name, '')
  const symbol = t.throws(() => new AsyncLocalStorage({ name: Symbol('s') }))
  t.true(symbol instanceof TypeError)
  t.is(symbol.message, 'Cannot convert a Symbol value to a string')
  for (const [bad, received] of [[[], 'an instance of Array'], ['x', "type string ('x')"]]) {
    const error = t.throws(() => new AsyncLocalStorage(bad))
    t.is(error.code, 'ERR_INVALID_ARG_TYPE')
    t.is(error.message, `The "options" argument must be of type object. Received ${received}`)
  }
})
