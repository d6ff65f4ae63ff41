'use strict'

// scripts/check-release.js: the parsing its release checks rely on, and the checks
// themselves on this tree (the pack check runs in .ci/run; it packs seven packages).

const test = require('ava')
const { execFileSync } = require('node:child_process')
const { join } = require('node:path')
const { localCrates, platformOf, readToml, workflowTargets } = require('../scripts/check-release')
const pkg = require('../package.json')

const SCRIPT = join(__dirname, '..', 'scripts', 'check-release.js')

test('readToml reads tables, dotted keys, arrays over several lines, inline tables and comments', (t) => {
  const tables = readToml(join(__dirname, 'fixtures', 'release', 'workspace.toml'))
  t.is(tables.get('workspace').get('members').replace(/\s+/g, ' '), `[ "crates/*", 'tools/gen', ]`)
  t.is(tables.get('workspace.package').get('version'), '"0.1.0"')
  t.is(tables.get('package').get('name'), '"root # not a comment"')
  t.is(tables.get('package').get('version.workspace'), 'true')
  t.is(tables.get('dependencies').get('baton-napi'), '{ path = "crates/baton-napi", version = "0.1.0" }')
  t.is(tables.get('dependencies.helper').get('path'), '"crates/helper"')
  t.is(tables.get("target.'cfg(windows)'.build-dependencies").get('winres'), '{ path = "crates/winres" }')
})

test('localCrates follows workspace members (globs too) and path dependencies of every kind', (t) => {
  const crates = localCrates(join(__dirname, 'fixtures', 'release', 'workspace'))
  t.deepEqual([...crates.keys()].sort(), ['.', 'crates/baton-napi', 'crates/helper', 'tools/gen', 'vendored/winres'])
  t.is(crates.get('crates/baton-napi').get('package').get('name'), '"baton-napi"')
})

test('localCrates fails clearly on a path dependency without a Cargo.toml', (t) => {
  t.throws(() => localCrates(join(__dirname, 'fixtures', 'release', 'broken')), {
    message: 'dependencies.gone in ./Cargo.toml points at crates/gone, which has no Cargo.toml',
  })
})

test('platformOf names every napi target as the napi-rs CLI names its npm/ package', (t) => {
  t.deepEqual(pkg.napi.targets.map(platformOf), [
    'linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc',
  ])
  t.throws(() => platformOf('wasm32-wasip1'), { message: /unknown CPU/ })
  t.throws(() => platformOf('x86_64-unknown-freebsd'), { message: /unknown platform/ })
})

test('workflowTargets reads the build matrix of CI.yml, and only it', (t) => {
  const targets = workflowTargets()
  t.deepEqual([...targets].sort(), [...pkg.napi.targets].sort())
})

test('the versions and targets checks pass on this tree and name what they checked', (t) => {
  const versions = execFileSync(process.execPath, [SCRIPT, 'versions'], { encoding: 'utf8' })
  t.regex(versions, new RegExp(`^npm/linux-x64-gnu/package.json ${pkg.version.replace(/\./g, '\\.')}$`, 'm'))
  t.regex(versions, /^Cargo\.toml \(baton\) /m)
  t.regex(versions, /check-release versions: ok/)
  const targets = execFileSync(process.execPath, [SCRIPT, 'targets'], { encoding: 'utf8' })
  t.regex(targets, /x86_64-unknown-linux-gnu -> npm\/linux-x64-gnu/)
  t.regex(targets, /check-release targets: ok/)
})

test('an unknown check prints the usage and exits 2', (t) => {
  const error = t.throws(() => execFileSync(process.execPath, [SCRIPT, 'publish'], { stdio: 'pipe' }))
  t.is(error.status, 2)
  t.regex(String(error.stderr), /usage: node scripts\/check-release\.js pack\|versions\|targets/)
})
