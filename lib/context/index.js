'use strict'

const { AsyncContext } = require('./async-context')
const { AsyncResource, EventEmitterAsyncResource, resources } = require('./resource')
const { AsyncLocalStorage } = require('./storage')

module.exports = { AsyncContext, AsyncLocalStorage, AsyncResource, EventEmitterAsyncResource, resources }
