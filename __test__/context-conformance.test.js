'use strict'

// Every scenario here runs against node:async_hooks and against baton, and both must
// observe the same thing: what Node 20, 22, 24 and 26 all do, as measured on each line.
// Each scenario's title states the fact it checks, and the scenario is its proof: run
// against node:async_hooks, it passes on every line. Where Node's own lines differ, see
// context-divergences.test.js.

const test = require('ava')
const nodeAsyncHooks = require('node:async_hooks')
const EventEmitter = require('node:events')
const { readFile } = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')
const baton = require('..')
const { execFileSync } = require('node:child_process')
const { join } = require('node:path')

const implementations = [
  ['node', nodeAsyncHooks],
  ['baton', baton],
]

function later() {
  return new Promise((resolve) => setImmediate(resolve))
}

for (const [label, { AsyncLocalStorage, AsyncResource }] of implementations) {
  const is = (title) => `${label}: ${title}`
  const eid = nodeAsyncHooks.executionAsyncId

  test(is('getStore() outside any run is undefined, or the defaultValue'), (t) => {
    t.is(new AsyncLocalStorage().getStore(), undefined)
    const withDefault = new AsyncLocalStorage({ defaultValue: 'fallback' })
    // Node 20/22 ignore the option; the claim for both is only about run().
    if (label === 'baton' || Number(process.versions.node.split('.')[0]) >= 24) t.is(withDefault.getStore(), 'fallback')
    t.is(withDefault.run('set', () => withDefault.getStore()), 'set')
  })

  test(is('run() returns the callback value, forwards arguments and restores the store, also on throw'), (t) => {
    const als = new AsyncLocalStorage()
    t.is(als.run('a', (x, y) => `${als.getStore()}${x}${y}`, 1, 2), 'a12')
    als.run('outer', () => {
      t.throws(() => als.run('inner', () => {
        throw new Error('boom')
      }), { message: 'boom' })
      t.is(als.getStore(), 'outer')
    })
    t.is(als.getStore(), undefined)
  })

  test(is('exit() runs with the store absent, then restores it'), (t) => {
    const als = new AsyncLocalStorage()
    als.run('in', () => {
      t.is(als.exit((x) => [als.getStore(), x], 5)[0], undefined)
      t.is(als.getStore(), 'in')
    })
  })

  test(is('two storages are independent'), (t) => {
    const a = new AsyncLocalStorage()
    const b = new AsyncLocalStorage()
    a.run(1, () => b.run(2, () => {
      t.deepEqual([a.getStore(), b.getStore()], [1, 2])
      a.run(3, () => t.deepEqual([a.getStore(), b.getStore()], [3, 2]))
      b.exit(() => t.deepEqual([a.getStore(), b.getStore()], [1, undefined]))
    }))
  })

  // Node has withScope() from 24.20 on; baton on every line.
  if ('withScope' in AsyncLocalStorage.prototype) {
    test(is('a scope outlives the run() it was opened in, and its dispose() puts back its own storage only'), (t) => {
      const a = new AsyncLocalStorage()
      const b = new AsyncLocalStorage()
      b.run('b0', () => {
        let scope
        a.run('a1', () => {
          scope = b.withScope('b1')
          t.deepEqual([a.getStore(), b.getStore()], ['a1', 'b1'])
        })
        // The scope outlives a.run(): only a's own store was put back.
        t.deepEqual([a.getStore(), b.getStore()], [undefined, 'b1'])
        b.enterWith('b2')
        scope.dispose()
        t.deepEqual([a.getStore(), b.getStore()], [undefined, 'b0'])
      })
    })
  }

  test(is("an enterWith() of another storage inside run() lasts past it; run() restores its own store only"), (t) => {
    const a = new AsyncLocalStorage()
    const b = new AsyncLocalStorage()
    b.run('b0', () => {
      a.run('a0', () => {
        a.run('a1', () => {
          b.enterWith('b1')
          a.enterWith('a2')
        })
        t.deepEqual([a.getStore(), b.getStore()], ['a0', 'b1'])
      })
      t.deepEqual([a.getStore(), b.getStore()], [undefined, 'b1'])
    })
    t.deepEqual([a.getStore(), b.getStore()], [undefined, undefined])
  })

  test(is('disable() inside run(): a timer and a nextTick queued before it see undefined, and a later run() works'), async (t) => {
    const als = new AsyncLocalStorage()
    const seen = await new Promise((resolve) => {
      setImmediate(() => {
        const out = {}
        als.run('A', () => {
          setTimeout(() => resolve(Object.assign(out, { timer: als.getStore(), rerun: als.run('B', () => als.getStore()) })), 1)
          process.nextTick(() => (out.nextTick = als.getStore()))
          als.disable()
          out.sync = als.getStore()
        })
      })
    })
    t.deepEqual(seen, { sync: undefined, nextTick: undefined, timer: undefined, rerun: 'B' })
  })

  test(is('1000 nested run() calls work and unwind'), (t) => {
    const als = new AsyncLocalStorage()
    const deep = (n) => (n === 0 ? als.getStore() : als.run(n, () => deep(n - 1)))
    t.is(deep(1000), 1)
    const other = new AsyncLocalStorage()
    const alternate = (n) => (n === 0 ? [als.getStore(), other.getStore()] : (n % 2 ? als : other).run(n, () => alternate(n - 1)))
    t.deepEqual(alternate(1000), [1, 2])
  })

  test(is('the store survives await, timers, immediates, intervals, nextTick, queueMicrotask and fs callbacks'), async (t) => {
    const als = new AsyncLocalStorage()
    const seen = await als.run('ctx', async () => {
      const out = {}
      await null
      out.await = als.getStore()
      await new Promise((resolve) => setTimeout(() => resolve((out.timeout = als.getStore())), 1))
      await new Promise((resolve) => setImmediate(() => resolve((out.immediate = als.getStore()))))
      await new Promise((resolve) => {
        const id = setInterval(() => {
          clearInterval(id)
          resolve((out.interval = als.getStore()))
        }, 1)
      })
      await new Promise((resolve) => process.nextTick(() => resolve((out.nextTick = als.getStore()))))
      await new Promise((resolve) => queueMicrotask(() => resolve((out.microtask = als.getStore()))))
      await new Promise((resolve) => readFile(__filename, () => resolve((out.fs = als.getStore()))))
      await sleep(1)
      out.timersPromises = als.getStore()
      return out
    })
    t.deepEqual(seen, { await: 'ctx', timeout: 'ctx', immediate: 'ctx', interval: 'ctx', nextTick: 'ctx', microtask: 'ctx', fs: 'ctx', timersPromises: 'ctx' })
  })

  test(is('thenables: inside their then() and after await'), async (t) => {
    const als = new AsyncLocalStorage()
    let inThen
    const thenable = {
      then(resolve) {
        inThen = als.getStore()
        resolve(1)
      },
    }
    const after = await als.run('thenable', async () => {
      await thenable
      return als.getStore()
    })
    t.is(inThen, 'thenable')
    t.is(after, 'thenable')
  })

  test(is('a .then callback runs in the context where .then was registered'), async (t) => {
    const als = new AsyncLocalStorage()
    let resolve
    const promise = als.run('created', () => new Promise((r) => (resolve = r)))
    const seen = als.run('registered', () => promise.then(() => als.getStore()))
    als.run('resolved', () => resolve())
    t.is(await seen, 'registered')
  })

  test(is('EventEmitter: plain listeners run in the emit() caller context, bound ones in the registration context'), (t) => {
    const als = new AsyncLocalStorage()
    const emitter = new EventEmitter()
    const seen = []
    als.run('registration', () => {
      emitter.on('plain', () => seen.push(['plain', als.getStore()]))
      emitter.on('bound', AsyncResource.bind(() => seen.push(['bound', als.getStore()])))
    })
    als.run('emitter', () => {
      emitter.emit('plain')
      emitter.emit('bound')
    })
    t.deepEqual(seen, [['plain', 'emitter'], ['bound', 'registration']])
  })

  test(is('a userland queue loses the context unless its callbacks are bound'), async (t) => {
    const als = new AsyncLocalStorage()
    const queue = []
    als.run('a', () => queue.push(() => als.getStore()))
    als.run('b', () => queue.push(AsyncResource.bind(() => als.getStore())))
    als.run('c', () => queue.push(AsyncLocalStorage.bind(() => als.getStore())))
    await new Promise((resolve) => setTimeout(resolve, 1))
    const seen = als.run('drainer', () => queue.map((cb) => cb()))
    t.deepEqual(seen, ['drainer', 'b', 'c'])
  })

  test(is('static snapshot() runs a function in the captured context'), (t) => {
    const als = new AsyncLocalStorage()
    const snapshot = als.run('captured', () => AsyncLocalStorage.snapshot())
    t.deepEqual(als.run('now', () => snapshot((x) => [als.getStore(), x], 7)), ['captured', 7])
  })

  test(is('enterWith() lasts for the rest of the synchronous execution and what it starts'), async (t) => {
    const als = new AsyncLocalStorage()
    const seen = await new Promise((resolve) => {
      setImmediate(() => {
        als.enterWith('entered')
        const sync = als.getStore()
        setTimeout(() => resolve([sync, als.getStore()]), 1)
      })
    })
    t.deepEqual(seen, ['entered', 'entered'])
  })

  test(is('enterWith() before the first await of an async function leaks into its caller'), async (t) => {
    const als = new AsyncLocalStorage()
    const seen = await new Promise((resolve) => {
      setImmediate(() => {
        const inner = async () => {
          als.enterWith('leaked')
          await null
        }
        inner()
        resolve(als.getStore())
      })
    })
    t.is(seen, 'leaked')
  })

  test(is('enterWith() does not leak past its macrotask'), async (t) => {
    const als = new AsyncLocalStorage()
    await new Promise((resolve) => setImmediate(() => resolve(als.enterWith('first'))))
    const next = await new Promise((resolve) => setImmediate(() => resolve(als.getStore())))
    t.is(next, undefined)
  })

  test(is('enterWith() in the first listener is seen by later listeners and by the emitter afterwards'), async (t) => {
    const als = new AsyncLocalStorage()
    const emitter = new EventEmitter()
    const seen = await new Promise((resolve) => {
      setImmediate(() => {
        const out = []
        emitter.on('e', () => als.enterWith('from listener'))
        emitter.on('e', () => out.push(als.getStore()))
        emitter.emit('e')
        out.push(als.getStore())
        resolve(out)
      })
    })
    t.deepEqual(seen, ['from listener', 'from listener'])
  })

  test(is('AsyncResource: runInAsyncScope restores the construction context and the execution ids'), (t) => {
    const als = new AsyncLocalStorage()
    const resource = als.run('construction', () => new AsyncResource('conformance.Resource'))
    const seen = als.run('caller', () =>
      resource.runInAsyncScope(function (x) {
        return [als.getStore(), eid() === resource.asyncId(), nodeAsyncHooks.executionAsyncResource() === resource, this, x]
      }, 'self', 1),
    )
    t.deepEqual(seen, ['construction', true, true, 'self', 1])
    t.true(resource.asyncId() > 0)
    t.is(resource.triggerAsyncId(), eid())
    t.is(resource.emitDestroy(), resource)
    t.is(resource.runInAsyncScope(() => als.getStore()), 'construction', 'still works after emitDestroy')
  })

  test(is('AsyncResource: triggerAsyncId as an option or a number'), (t) => {
    t.is(new AsyncResource('T', { triggerAsyncId: 42 }).triggerAsyncId(), 42)
    t.is(new AsyncResource('T', 43).triggerAsyncId(), 43)
    t.is(new AsyncResource('T', { triggerAsyncId: -1 }).triggerAsyncId(), -1)
  })

  test(is('AsyncResource.bind: length, this, and the static form'), (t) => {
    const als = new AsyncLocalStorage()
    const resource = als.run('bound here', () => new AsyncResource('T'))
    const fn = function (a, b) {
      return [als.getStore(), this, a, b]
    }
    const bound = resource.bind(fn)
    t.is(bound.length, 2)
    t.deepEqual(bound.call('caller this', 1, 2), ['bound here', 'caller this', 1, 2])
    t.deepEqual(resource.bind(fn, 'fixed')(3, 4), ['bound here', 'fixed', 3, 4])
    const staticBound = als.run('static', () => AsyncResource.bind(fn, 'MyType', 'thisArg'))
    t.deepEqual(staticBound(5, 6), ['static', 'thisArg', 5, 6])
  })

  test(is('AsyncResource: bad arguments get Node\'s errors'), (t) => {
    const typeError = t.throws(() => new AsyncResource())
    t.is(typeError.code, 'ERR_INVALID_ARG_TYPE')
    t.is(typeError.message, 'The "type" argument must be of type string. Received undefined')
    for (const bad of [NaN, null, '1', Math.PI, -2]) {
      const error = t.throws(() => new AsyncResource('T', { triggerAsyncId: bad }), undefined, String(bad))
      t.true(error instanceof RangeError)
      t.is(error.code, 'ERR_INVALID_ASYNC_ID')
    }
    t.is(t.throws(() => new AsyncResource('T', -2)).message, 'Invalid triggerAsyncId value: -2')
    t.is(t.throws(() => new AsyncResource('T').bind(42)).code, 'ERR_INVALID_ARG_TYPE')
    t.is(t.throws(() => AsyncResource.bind(42)).code, 'ERR_INVALID_ARG_TYPE')
    const bindError = t.throws(() => AsyncLocalStorage.bind(42))
    t.is(bindError.message, 'The "fn" argument must be of type function. Received type number (42)')
  })

  test.serial(is('AsyncResource: an empty type is ERR_ASYNC_TYPE while an init hook is enabled'), (t) => {
    t.notThrows(() => new AsyncResource(''))
    const hook = nodeAsyncHooks.createHook({ init() {} }).enable()
    try {
      const error = t.throws(() => new AsyncResource(''))
      t.true(error instanceof TypeError)
      t.is(error.code, 'ERR_ASYNC_TYPE')
      t.is(error.message, 'Invalid name for async "type": ')
    } finally {
      hook.disable()
    }
  })

  test.serial(is('a createHook hook sees init, before, after and destroy with the given type'), async (t) => {
    const events = []
    const hook = nodeAsyncHooks
      .createHook({
        init: (id, type, trigger) => type === 'conformance.Hooked' && events.push(['init', id, trigger]),
        before: (id) => events.some((e) => e[1] === id) && events.push(['before', id]),
        after: (id) => events.some((e) => e[1] === id) && events.push(['after', id]),
        destroy: (id) => events.some((e) => e[1] === id) && events.push(['destroy', id]),
      })
      .enable()
    try {
      const trigger = eid()
      const resource = new AsyncResource('conformance.Hooked')
      const id = resource.asyncId()
      resource.runInAsyncScope(() => {})
      resource.emitDestroy()
      await later()
      t.deepEqual(events, [['init', id, trigger], ['before', id], ['after', id], ['destroy', id]])
    } finally {
      hook.disable()
    }
  })

  test(is('EventEmitterAsyncResource: listeners run in the context where the emitter was created'), (t) => {
    const als = new AsyncLocalStorage()
    const { EventEmitterAsyncResource } = label === 'node' ? EventEmitter : baton
    const emitter = als.run('created', () => new EventEmitterAsyncResource({ name: 'conformance.Emitter' }))
    const seen = []
    als.run('registered', () => emitter.on('e', (x) => seen.push([als.getStore(), x])))
    als.run('emitted', () => emitter.emit('e', 1))
    t.deepEqual(seen, [['created', 1]])
    t.true(emitter.asyncId > 0)
    t.is(emitter.asyncResource.asyncId(), emitter.asyncId)
    t.is(emitter.asyncResource.eventEmitter, emitter)
    emitter.emitDestroy()
  })

  test(is('EventEmitterAsyncResource: the class needs a string name, a subclass or a string argument does not'), (t) => {
    const { EventEmitterAsyncResource } = label === 'node' ? EventEmitter : baton
    for (const options of [undefined, {}, { name: 5 }]) {
      const error = t.throws(() => new EventEmitterAsyncResource(options))
      t.is(error.code, 'ERR_INVALID_ARG_TYPE')
      t.regex(error.message, /^The "options.name" property must be of type string\. Received /)
    }
    class Named extends EventEmitterAsyncResource {}
    for (const emitter of [new Named(), new Named({}), new EventEmitterAsyncResource('conformance.String'), new EventEmitterAsyncResource({ name: '' })]) {
      t.true(emitter.asyncId > 0)
      emitter.emitDestroy()
    }
  })

  test(is('runInAsyncScope on a frozen resource runs in its construction context'), (t) => {
    const als = new AsyncLocalStorage()
    const resource = Object.freeze(als.run('construction', () => new AsyncResource('conformance.Frozen')))
    t.is(als.run('caller', () => resource.runInAsyncScope(() => als.getStore())), 'construction')
    const bare = Object.freeze(new AsyncResource('conformance.Frozen'))
    t.is(bare.runInAsyncScope((x) => x, null, 1), 1)
  })

  test(is('runInAsyncScope on a resource frozen before any run() in the process'), (t) => {
    // A fresh process: no storage has run yet, so no hook has seen the resource made.
    const module = label === 'node' ? 'node:async_hooks' : join(__dirname, '..')
    const script = `const { AsyncResource } = require(${JSON.stringify(module)}); process.stdout.write(String(Object.freeze(new AsyncResource('x')).runInAsyncScope(() => 42)))`
    t.is(execFileSync(process.execPath, [...process.execArgv, '-e', script], { encoding: 'utf8', timeout: 30_000 }), '42')
  })
}

// The uncaughtException / unhandledRejection facts need a process of their own.

for (const label of ['node', 'baton']) {
  test(`${label}: a collected resource gets its destroy within a setImmediate turn, also when the process exits right after`, (t) => {
    // The same flags as this process (--expose-gc, and the engine the matrix chose).
    const out = execFileSync(process.execPath, [...process.execArgv, join(__dirname, 'fixtures', 'gc-destroy.js'), label], { encoding: 'utf8', timeout: 30_000 })
    const seen = JSON.parse(out)
    t.like(seen, { nextImmediate: { destroyed: 100 }, exit: { destroyed: 100 } })
    // baton's registry: nothing collected is listed once collected.
    if (label === 'baton') t.like(seen, { afterGc: { listed: 0 }, nextImmediate: { listed: 0 }, exit: { listed: 0 } })
  })

  test(`${label}: uncaughtException and unhandledRejection handlers see the store of the code that threw`, (t) => {
    const out = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'error-handlers.js'), label], { encoding: 'utf8', timeout: 30_000 })
    t.deepEqual(JSON.parse(out), { uncaught: 'thrower', rejection: 'rejecter' })
  })
}
