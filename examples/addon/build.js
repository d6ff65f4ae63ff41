'use strict'

// Builds the addon (a debug build: this is an example) and copies the library where
// index.js loads it from.

const { execFileSync } = require('node:child_process')
const { copyFileSync } = require('node:fs')
const { join } = require('node:path')

const library = { win32: 'baton_napi_example.dll', darwin: 'libbaton_napi_example.dylib' }[process.platform] ?? 'libbaton_napi_example.so'
execFileSync('cargo', ['build'], { cwd: __dirname, stdio: 'inherit' })
copyFileSync(join(__dirname, 'target', 'debug', library), join(__dirname, 'example.node'))
