'use strict'

// docs/api.md documents exactly what the typings of every entry point in package.json's
// `exports` declare (index.d.ts, and each subpath's), and those typings declare exactly
// what the CommonJS and ESM entries export. Exports are read from index.d.ts with the
// TypeScript parser (overloads, namespaces, `export { ... }` lists and comments are
// handled there) and from docs/api.md's level-3 headings, whose first code span starts
// with the export's name (after a keyword like `class` or `interface`).

const test = require('ava')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const { pathToFileURL } = require('node:url')
const ts = require('typescript')

const root = join(__dirname, '..')

/** The entry points of package.json's `exports` that have typings: { subpath, types, require, import }. */
function entryPoints() {
  const { exports } = require('../package.json')
  return Object.entries(exports)
    .filter(([, target]) => typeof target === 'object' && target.types !== undefined)
    .map(([subpath, target]) => ({ subpath, types: join(root, target.types), require: join(root, target.require), import: join(root, target.import) }))
}

/** A typings file's exports: Map of name -> whether it is a value (function, class, ...) at run time. */
function declaredExports(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const exports = new Map()
  const add = (name, value) => exports.set(name, (exports.get(name) ?? false) || value)
  const exported = (node) => ts.getModifiers?.(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  for (const node of source.statements) {
    if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const element of node.exportClause.elements) add(element.name.text, !node.isTypeOnly && !element.isTypeOnly)
    } else if (!exported(node)) {
      continue
    } else if (ts.isVariableStatement(node)) {
      for (const declaration of node.declarationList.declarations) add(declaration.name.getText(source), true)
    } else if (node.name) {
      const typeOnly = ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)
      add(node.name.text, !typeOnly)
    }
  }
  return exports
}

/** docs/api.md's exports: the name starting the first code span of each `###` heading. */
function documentedExports() {
  const text = readFileSync(join(root, 'docs', 'api.md'), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
  const names = []
  for (const [, heading] of text.matchAll(/^### +(.*)$/gm)) {
    const code = /`([^`]+)`/.exec(heading)
    const name = code && /^(?:(?:declare|export|abstract|class|interface|type|namespace|function|const|enum|new)\s+)*([A-Za-z_$][\w$]*)/.exec(code[1].trim())
    if (name) names.push(name[1])
  }
  return names
}

test('docs/api.md has a heading for every export of every entry point, and none for anything else', (t) => {
  const declared = entryPoints().flatMap((entry) => [...declaredExports(entry.types).keys()]).sort()
  const documented = documentedExports()
  t.true(declared.length > 0, 'index.d.ts parsed')
  t.deepEqual([...new Set(documented)].sort(), declared, 'exports documented vs declared')
  t.deepEqual(documented.filter((name, i) => documented.indexOf(name) !== i), [], 'each export documented once')
})

test('each entry point\'s typings declare as values exactly what its CommonJS and ESM files export', async (t) => {
  const entries = entryPoints()
  t.true(entries.some((entry) => entry.subpath === '.'), 'the main entry point is typed')
  for (const entry of entries) {
    const values = [...declaredExports(entry.types)].filter(([, value]) => value).map(([name]) => name).sort()
    t.deepEqual(Object.keys(require(entry.require)).sort(), values, `${entry.subpath}: CommonJS`)
    const esm = await import(pathToFileURL(entry.import).href)
    t.deepEqual(Object.keys(esm).filter((name) => name !== 'default').sort(), values, `${entry.subpath}: ESM`)
  }
})

test('the heading parser reads the heading forms docs/api.md uses', (t) => {
  // Guards the parser itself: a heading form it misread would hide an undocumented export.
  const names = documentedExports()
  for (const name of ['fibonacci', 'AsyncLocalStorage', 'TaskOptions', 'Callback', 'AsyncContext', 'WorkerPoolHandler']) {
    t.true(names.includes(name), name)
  }
  t.false(names.includes('getStore'), 'members are not exports')
})
