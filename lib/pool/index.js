'use strict'

const { move, transferableSymbol, valueSymbol } = require('./move')
const { WorkerPool } = require('./pool')

module.exports = { WorkerPool, move, transferableSymbol, valueSymbol }
