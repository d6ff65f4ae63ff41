'use strict'

// JSON payloads for transport.js: a plain value (what wire.js calls plain, and no
// undefined, -0, NaN or infinity, which JSON cannot hold) written here as JSON text is
// read back by JSON.parse as exactly what structured cloning would give, and V8's
// JSON.parse reads it in half the time that V8's deserializer reads the same value in
// its own format. The text is written here, not by JSON.stringify: each property is
// read once, in the order structured cloning reads it, so a getter runs once, and
// neither toJSON nor anything planted on a prototype is ever called. Everything else
// returns NOT_PLAIN, for transport.js's other paths.

const { isProxy } = require('node:util').types
// The same bounds as wire.js's: a value is plain to both or to neither for its size.
const { MAX_ARRAY, MAX_DEPTH, MAX_OBJECTS, NOT_PLAIN } = require('./wire')

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a

let out = Buffer.allocUnsafeSlow(4096)
let pos = 0
// As in wire.js: the objects written so far, a second sighting a shared reference.
const seen = Array.from({ length: MAX_OBJECTS })
let seenCount = 0
let writing = false

function sighted(v) {
  for (let i = 0; i < seenCount; i++) if (seen[i] === v) return true
  return false
}

function room(n) {
  if (pos + n <= out.length) return
  const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, pos + n))
  out.copy(bigger, 0, 0, pos)
  out = bigger
}

/** ASCII that JSON text holds as it is: not a quote, a backslash or a control character. */
const VERBATIM = new Uint8Array(0x80)
for (let c = 0x20; c < 0x80; c++) VERBATIM[c] = c === QUOTE || c === BACKSLASH ? 0 : 1

/**
 * A string as JSON: printable ASCII copied in one pass that checks it; anything else
 * (quotes, escapes, control characters, lone surrogates, non-ASCII) as JSON.stringify
 * writes it, in UTF-8.
 */
function string(s) {
  const length = s.length
  room(2 + length)
  // Locals, not the module's `out` and `pos`: the loop keeps them in registers.
  const bytes = out
  let at = pos
  bytes[at++] = QUOTE
  let i = 0
  for (let c; i < length && (c = s.charCodeAt(i)) < 0x80 && VERBATIM[c] === 1; i++) bytes[at++] = c
  if (i === length) {
    bytes[at++] = QUOTE
    pos = at
    return
  }
  const quoted = JSON.stringify(s)
  room(quoted.length * 3)
  pos += out.utf8Write(quoted, pos)
}

/**
 * `n` (a safe integer) in decimal, with a point before its last `decimals` digits:
 * `n / 10 ** decimals` as text.
 */
function decimal(n, decimals) {
  room(22)
  if (n < 0) {
    out[pos++] = 0x2d // '-'
    n = -n
  }
  let digits = 1
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++
  if (digits <= decimals) digits = decimals + 1 // a leading 0
  let at = pos + digits + (decimals > 0 ? 1 : 0)
  pos = at
  for (let i = 0; i < digits; i++) {
    if (i === decimals && decimals > 0) out[--at] = 0x2e // '.'
    const digit = n % 10
    out[--at] = 0x30 + digit
    n = (n - digit) / 10 // exact, where n / 10 rounds beyond 2 ** 50
  }
}

const SCALES = [10, 100, 1000, 10_000, 100_000, 1_000_000]

/**
 * A finite number that is not an integer, if it has at most six decimals: the
 * text of `n / scale`, which JSON.parse reads back as the double nearest to that
 * fraction, the double that the division gives, `v`. Number's own conversion (the
 * shortest text) costs several times more.
 */
function fraction(v) {
  for (let k = 0; k < SCALES.length; k++) {
    const scale = SCALES[k]
    const n = Math.round(v * scale)
    if (n / scale === v && Math.abs(n) <= Number.MAX_SAFE_INTEGER) {
      decimal(n, k + 1)
      return
    }
  }
  ascii(String(v))
}

function value(v, depth) {
  switch (typeof v) {
    case 'boolean':
      if (v) ascii('true')
      else ascii('false')
      return true
    case 'number':
      if ((v | 0) === v) {
        if (v === 0 && 1 / v < 0) return false // -0: JSON has no sign on zero
        decimal(v, 0)
        return true
      }
      if (!Number.isFinite(v)) return false
      if (Number.isSafeInteger(v)) decimal(v, 0)
      // Number's own conversion: the shortest text that JSON.parse reads back as `v`.
      else if (Number.isInteger(v)) ascii(String(v))
      else fraction(v)
      return true
    case 'string':
      string(v)
      return true
    case 'object':
      if (v === null) {
        ascii('null')
        return true
      }
      return object(v, depth)
    default:
      return false // undefined, bigint, symbol, function
  }
}

function ascii(s) {
  const length = s.length
  room(length)
  for (let i = 0; i < length; i++) out[pos++] = s.charCodeAt(i)
}

function object(v, depth) {
  if (depth >= MAX_DEPTH || seenCount >= MAX_OBJECTS || sighted(v) || isProxy(v)) return false
  seen[seenCount++] = v
  const proto = Object.getPrototypeOf(v)
  if (proto === Array.prototype) {
    const length = v.length
    if (length > MAX_ARRAY) return false
    // Dense, with no property besides its elements (JSON would drop one).
    if (Object.keys(v).length !== length) return false
    room(1)
    out[pos++] = 0x5b // '['
    for (let i = 0; i < length; i++) {
      if (i > 0) {
        room(1)
        out[pos++] = COMMA
      }
      if (!Object.hasOwn(v, i) || !value(v[i], depth + 1)) return false
    }
    room(1)
    out[pos++] = 0x5d // ']'
    return true
  }
  if (proto !== Object.prototype) return false
  const keys = Object.keys(v)
  room(1)
  out[pos++] = 0x7b // '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    if (i > 0) {
      room(1)
      out[pos++] = COMMA
    }
    string(key)
    room(1)
    out[pos++] = COLON
    if (!value(v[key], depth + 1)) return false
  }
  room(1)
  out[pos++] = 0x7d // '}'
  return true
}

/**
 * `values` as a JSON array, or NOT_PLAIN. `values` is an array baton made (an
 * envelope: dense, nothing else on it), so only its elements are checked. The bytes are
 * a view of a buffer that the next call overwrites: copy them before encoding again.
 */
function writeJsonArray(values) {
  if (writing) return NOT_PLAIN
  writing = true
  try {
    pos = 0
    room(1)
    out[pos++] = 0x5b
    for (let i = 0; i < values.length; i++) {
      if (i > 0) {
        room(1)
        out[pos++] = COMMA
      }
      if (!value(values[i], 1)) return NOT_PLAIN
    }
    room(1)
    out[pos++] = 0x5d
    return out.subarray(0, pos)
  } finally {
    while (seenCount > 0) seen[--seenCount] = undefined
    writing = false
  }
}

/** Whether `bytes` from `start` hold what writeJsonArray wrote: V8's format and markers start otherwise. */
function isJson(bytes, start = 0) {
  return bytes[start] === 0x5b
}

const { utf8Slice } = Buffer.prototype

/** The array in `bytes` from `start` to `end` (any Uint8Array), written by writeJsonArray. */
function readJsonArray(bytes, start = 0, end = bytes.length) {
  return JSON.parse(utf8Slice.call(bytes, start, end))
}

module.exports = { isJson, readJsonArray, writeJsonArray }
