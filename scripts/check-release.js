'use strict'

// Release checks, run by .ci/run (one check each) and before tagging a release
// (docs/RELEASING.md):
//
//   node scripts/check-release.js pack       the npm tarballs hold what installing needs, and nothing else
//   node scripts/check-release.js versions   one version everywhere: npm packages, crates, lockfiles, CHANGELOG
//   node scripts/check-release.js targets    the workflow builds exactly napi.targets, one npm/ package each
//
// Each prints what it checked and exits 1 with every problem it found.

const { execFileSync } = require('node:child_process')
const { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join, posix } = require('node:path')

const root = join(__dirname, '..')
const readJson = (file) => JSON.parse(readFileSync(join(root, file), 'utf8'))
const platformDirs = () => readdirSync(join(root, 'npm')).filter((dir) => statSync(join(root, 'npm', dir)).isDirectory()).sort()

// ---------------------------------------------------------------------------------------
// Cargo manifests: the subset of TOML they use (tables, dotted keys, strings, arrays,
// inline tables, values spread over lines).

/** Map of table name ('' for the top) -> Map of key -> raw value text. */
function readToml(file) {
  const tables = new Map([['', new Map()]])
  let table = tables.get('')
  let pending = ''
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    pending += ` ${stripComment(raw)}`
    if (depth(pending) > 0) continue // a value continues on the next line
    const line = pending.trim()
    pending = ''
    if (line === '') continue
    const header = /^\[\[?([^\]]+)\]\]?$/.exec(line)
    if (header) {
      const name = header[1].trim()
      // Arrays of tables ([[package]] in Cargo.lock) get one entry per occurrence.
      const key = line.startsWith('[[') ? `${name}#${tables.size}` : name
      if (!tables.has(key)) tables.set(key, new Map())
      table = tables.get(key)
      continue
    }
    const eq = line.indexOf('=')
    if (eq > 0) table.set(line.slice(0, eq).trim().replace(/\s*\.\s*/g, '.'), line.slice(eq + 1).trim())
  }
  return tables
}

function stripComment(line) {
  let quote = null
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = null
    } else if (c === '"' || c === "'") {
      quote = c
    } else if (c === '#') {
      return line.slice(0, i)
    }
  }
  return line
}

function depth(text) {
  let open = 0
  for (const c of text.replace(/"(?:\\.|[^"\\])*"|'[^']*'/g, '')) {
    if (c === '[' || c === '{') open++
    else if (c === ']' || c === '}') open--
  }
  return open
}

const tomlString = (value) => (value === undefined ? undefined : /^["'](.*)["']$/.exec(value)?.[1])
const tomlStrings = (value) => [...(value ?? '').matchAll(/"((?:\\.|[^"\\])*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2])
const inlineKey = (value, key) => tomlString(new RegExp(`(?:^|[{,\\s])${key}\\s*=\\s*("[^"]*"|'[^']*')`).exec(value ?? '')?.[1])

/**
 * The local crates the manifest in `base` builds: workspace members and path
 * dependencies, recursively. Map of dir (posix, relative to `base`) -> manifest tables.
 */
function localCrates(base = root) {
  const crates = new Map()
  const visit = (dir) => {
    if (crates.has(dir)) return
    const manifest = join(base, dir, 'Cargo.toml')
    if (!existsSync(manifest)) throw new Error(`${dir === '.' ? '' : dir + '/'}Cargo.toml is missing (needed by the workspace)`)
    const tables = readToml(manifest)
    crates.set(dir, tables)
    for (const member of tomlStrings(tables.get('workspace')?.get('members'))) {
      for (const found of expandMember(base, posix.join(dir, member))) visit(found)
    }
    for (const [name, entries] of tables) {
      if (/(^|\.)(dependencies|dev-dependencies|build-dependencies)$/.test(name)) {
        for (const [key, value] of entries) {
          const path = inlineKey(value, 'path')
          if (path !== undefined) visit(checkedPath(base, dir, path, `${name}.${key}`))
        }
      } else if (/(^|\.)(dependencies|dev-dependencies|build-dependencies)\.[^.]+$/.test(name)) {
        const path = tomlString(entries.get('path'))
        if (path !== undefined) visit(checkedPath(base, dir, path, name))
      }
    }
  }
  visit('.')
  return crates
}

function checkedPath(base, dir, path, where) {
  const resolved = posix.normalize(posix.join(dir, path))
  if (!existsSync(join(base, resolved, 'Cargo.toml'))) {
    throw new Error(`${where} in ${dir}/Cargo.toml points at ${resolved}, which has no Cargo.toml`)
  }
  return resolved
}

function expandMember(base, pattern) {
  if (!pattern.includes('*')) return [posix.normalize(pattern)]
  const [parent, ...rest] = pattern.split('/*')
  if (rest.join('') !== '') throw new Error(`workspace member pattern ${pattern} is not supported by this check`)
  const dir = join(base, parent)
  if (!existsSync(dir)) return []
  return readdirSync(dir).map((name) => posix.join(parent, name)).filter((d) => existsSync(join(base, d, 'Cargo.toml')))
}

/** Files git tracks under `dir` (the working tree's when git is missing). */
function trackedFiles(dir) {
  try {
    return execFileSync('git', ['ls-files', '-z', '--', dir], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean)
  } catch {
    const walk = (d) => readdirSync(join(root, d), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(posix.join(d, e.name)) : [posix.join(d, e.name)]))
    return existsSync(join(root, dir)) ? walk(dir) : []
  }
}

// ---------------------------------------------------------------------------------------
// pack

/** What `npm pack --dry-run --json` in `dir` would put in the tarball. */
function packedFiles(dir) {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return JSON.parse(out)[0].files.map((file) => file.path).sort()
}

// Never in a tarball: tests, fixtures, build output, benchmarks, examples, binaries.
const FORBIDDEN = /(^|\/)(__test__|fixtures|tests?|target|bench|benches|examples|node_modules|\.github|\.ci)(\/|$)|\.(node|tgz)$|^npm\//

function checkRootPack(problems) {
  const crates = localCrates()
  const required = new Set(['package.json', 'README.md', 'LICENSE', 'index.js', 'index.mjs', 'index.d.ts', 'scripts/install.js'])
  for (const file of trackedFiles('lib')) required.add(file)
  for (const [dir] of crates) {
    const prefix = dir === '.' ? '' : `${dir}/`
    required.add(`${prefix}Cargo.toml`)
    for (const file of trackedFiles(`${prefix}src`)) required.add(file)
    if (existsSync(join(root, prefix, 'build.rs'))) required.add(`${prefix}build.rs`)
  }
  required.add('Cargo.lock')
  const optional = new Set(['CHANGELOG.md'])
  const packed = packedFiles(root)
  for (const file of required) {
    if (!packed.includes(file)) problems.push(`async-baton: ${file} is missing from the tarball (building from source needs it; see package.json "files")`)
  }
  for (const file of packed) {
    if (FORBIDDEN.test(file)) problems.push(`async-baton: ${file} must not be in the tarball`)
    else if (!required.has(file) && !optional.has(file)) problems.push(`async-baton: ${file} is in the tarball but nothing needs it`)
  }
  const crateList = [...crates.keys()].filter((d) => d !== '.')
  console.log(`async-baton: ${packed.length} files (crates: root${crateList.length ? ', ' + crateList.join(', ') : ''})`)
}

/** The napi-rs platform name of a Rust target triple (`x86_64-unknown-linux-gnu` -> `linux-x64-gnu`). */
function platformOf(triple) {
  const [cpu] = triple.split('-')
  const arch = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm', riscv64gc: 'riscv64', s390x: 's390x', powerpc64le: 'ppc64' }[cpu]
  if (arch === undefined) throw new Error(`unknown CPU in target ${triple}`)
  if (triple.includes('-apple-darwin')) return `darwin-${arch}`
  if (triple.includes('-windows-msvc')) return `win32-${arch}-msvc`
  const linux = /-linux-(gnu|musl)/.exec(triple)
  if (linux) return `linux-${arch}-${linux[1]}`
  throw new Error(`unknown platform in target ${triple}`)
}

function checkPlatformPacks(problems) {
  const rootName = readJson('package.json').name
  const binaryName = readJson('package.json').napi.binaryName
  for (const dir of platformDirs()) {
    const pkg = readJson(`npm/${dir}/package.json`)
    const [os, cpu, abi] = dir.split('-')
    const main = `${binaryName}.${dir}.node`
    const where = `npm/${dir}`
    if (pkg.name !== `${rootName}-${dir}`) problems.push(`${where}: name is ${pkg.name}, expected ${rootName}-${dir}`)
    if (pkg.main !== main) problems.push(`${where}: main is ${pkg.main}, expected ${main}`)
    if (JSON.stringify(pkg.files) !== JSON.stringify([main])) problems.push(`${where}: files is ${JSON.stringify(pkg.files)}, expected ["${main}"]`)
    if (JSON.stringify(pkg.os) !== JSON.stringify([os])) problems.push(`${where}: os is ${JSON.stringify(pkg.os)}, expected ["${os}"]`)
    if (JSON.stringify(pkg.cpu) !== JSON.stringify([cpu])) problems.push(`${where}: cpu is ${JSON.stringify(pkg.cpu)}, expected ["${cpu}"]`)
    const libc = { gnu: ['glibc'], musl: ['musl'] }[abi]
    if (libc && JSON.stringify(pkg.libc) !== JSON.stringify(libc)) problems.push(`${where}: libc is ${JSON.stringify(pkg.libc)}, expected ${JSON.stringify(libc)}`)
    // Packed as publishing packs it: with the binary moved in (a stand-in here) and a
    // stray file beside it, which must stay out.
    const stage = mkdtempSync(join(tmpdir(), `baton-pack-${dir}-`))
    try {
      cpSync(join(root, 'npm', dir), stage, { recursive: true })
      writeFileSync(join(stage, main), 'stand-in for the binary')
      writeFileSync(join(stage, 'stray.txt'), 'must not be packed')
      const packed = packedFiles(stage)
      const expected = [main, 'package.json'].sort()
      if (JSON.stringify(packed) !== JSON.stringify(expected)) {
        problems.push(`${where}: the tarball holds ${JSON.stringify(packed)}, expected exactly ${JSON.stringify(expected)}`)
      }
    } finally {
      rmSync(stage, { recursive: true, force: true })
    }
  }
  console.log(`platform packages: ${platformDirs().join(', ')}`)
}

// ---------------------------------------------------------------------------------------
// versions

function checkVersions(problems) {
  const expected = readJson('package.json').version
  const seen = [`package.json ${expected}`]
  const expect = (where, version) => {
    seen.push(`${where} ${version}`)
    if (version !== expected) problems.push(`${where}: version ${version}, expected ${expected} (package.json)`)
  }
  const lock = readJson('package-lock.json')
  expect('package-lock.json', lock.version)
  expect('package-lock.json packages[""]', lock.packages?.['']?.version)
  for (const dir of platformDirs()) expect(`npm/${dir}/package.json`, readJson(`npm/${dir}/package.json`).version)

  const crates = localCrates()
  const workspaceVersion = tomlString(crates.get('.').get('workspace.package')?.get('version'))
  const names = new Set()
  for (const [dir, tables] of crates) {
    const pkg = tables.get('package')
    if (!pkg) continue // a virtual workspace manifest
    const raw = pkg.get('version') ?? (pkg.get('version.workspace') === 'true' ? JSON.stringify(workspaceVersion) : undefined)
    const inherited = inlineKey(raw, 'workspace') !== undefined || /workspace\s*=\s*true/.test(raw ?? '')
    expect(`${dir === '.' ? '' : dir + '/'}Cargo.toml (${tomlString(pkg.get('name'))})`, inherited ? workspaceVersion : tomlString(raw))
    names.add(tomlString(pkg.get('name')))
  }
  for (const [table, entries] of readToml(join(root, 'Cargo.lock'))) {
    const name = tomlString(entries.get('name'))
    if (table.startsWith('package#') && names.has(name) && !entries.has('source')) expect(`Cargo.lock (${name})`, tomlString(entries.get('version')))
  }
  const changelog = /^## \[?v?(\d+\.\d+\.\d+[^\]\s]*)/m.exec(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'))
  expect('CHANGELOG.md (latest release)', changelog?.[1])
  console.log(seen.join('\n'))
}

// ---------------------------------------------------------------------------------------
// targets

/** The `target:` values of the build job's matrix in .github/workflows/CI.yml. */
function workflowTargets() {
  const lines = readFileSync(join(root, '.github', 'workflows', 'CI.yml'), 'utf8').split('\n')
  const start = lines.findIndex((line) => /^ {2}build:\s*$/.test(line))
  if (start === -1) throw new Error('.github/workflows/CI.yml has no top-level job named build')
  const end = lines.findIndex((line, i) => i > start && /^ {2}[\w-]+:\s*$/.test(line))
  const job = lines.slice(start, end === -1 ? undefined : end)
  return job.map((line) => /^\s*-?\s*target:\s*['"]?([\w.-]+)['"]?\s*(#.*)?$/.exec(line)?.[1]).filter(Boolean)
}

function checkTargets(problems) {
  const targets = readJson('package.json').napi.targets
  const built = workflowTargets()
  const sorted = (list) => JSON.stringify([...list].sort())
  if (built.length === 0) problems.push('CI.yml: the build job lists no matrix target')
  if (new Set(built).size !== built.length) problems.push(`CI.yml: the build matrix lists a target twice: ${built.join(', ')}`)
  if (sorted(built) !== sorted(targets)) {
    problems.push(`CI.yml builds ${sorted(built)}, package.json napi.targets is ${sorted(targets)}`)
  }
  const platforms = targets.map(platformOf)
  if (sorted(platforms) !== sorted(platformDirs())) {
    problems.push(`napi.targets are the platforms ${sorted(platforms)}, npm/ has ${sorted(platformDirs())}`)
  }
  console.log(`targets: ${targets.map((t, i) => `${t} -> npm/${platforms[i]}`).join(', ')}`)
}

// ---------------------------------------------------------------------------------------

const CHECKS = {
  pack: (problems) => {
    checkRootPack(problems)
    checkPlatformPacks(problems)
  },
  versions: checkVersions,
  targets: checkTargets,
}

function main(name) {
  if (!Object.hasOwn(CHECKS, name)) {
    console.error(`usage: node scripts/check-release.js ${Object.keys(CHECKS).join('|')}`)
    process.exit(2)
  }
  const problems = []
  try {
    CHECKS[name](problems)
  } catch (error) {
    problems.push(error.message)
  }
  if (problems.length > 0) {
    console.error(`check-release ${name}: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  console.log(`check-release ${name}: ok`)
}

if (require.main === module) main(process.argv[2])

module.exports = { localCrates, platformOf, readToml, workflowTargets }
