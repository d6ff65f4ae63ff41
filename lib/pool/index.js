'use strict'

const { WorkerPool } = require('./pool')

module.exports = { WorkerPool }
