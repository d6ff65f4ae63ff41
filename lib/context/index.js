'use strict'

const { AsyncContext } = require('./async-context')
const { resources } = require('./registry')
const { AsyncResource, EventEmitterAsyncResource } = require('./resource')
const { AsyncLocalStorage } = require('./storage')

module.exports = { AsyncContext, AsyncLocalStorage, AsyncResource, EventEmitterAsyncResource, resources }
