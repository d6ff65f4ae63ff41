'use strict'

module.exports = require('./example.node')
