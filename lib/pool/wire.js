'use strict'

// A fast path for the payloads of transport.js: plain values (primitives, plain objects
// and dense arrays of them, no shared or cyclic references) are written and read here
// in V8's serialization format, the format of `v8.serialize`, so that either side may
// read what the other wrote by either path. Everything else returns NOT_PLAIN and
// goes through `v8.serialize` / `v8.deserialize`, whose per-call Serializer object,
// Buffer and native round trips cost microseconds a task. The tags are V8's
// (src/objects/value-serializer.cc).

const { serialize } = require('node:v8')
const { isProxy } = require('node:util').types

const NOT_PLAIN = Symbol('baton.notPlain')
/** What writeArray returns for a value with more entries than it was asked to write. */
const LARGE = Symbol('baton.large')

// V8's header, as this Node writes it: 0xFF and the format version.
const HEADER = serialize(undefined).subarray(0, -1)
const PADDING = 0x00
const UNDEFINED = 0x5f // '_'
const NULL = 0x30 // '0'
const TRUE = 0x54 // 'T'
const FALSE = 0x46 // 'F'
const INT32 = 0x49 // 'I'
const DOUBLE = 0x4e // 'N'
const ONE_BYTE = 0x22 // '"'
const TWO_BYTE = 0x63 // 'c'
const BEGIN_OBJECT = 0x6f // 'o'
const END_OBJECT = 0x7b // '{'
const BEGIN_ARRAY = 0x41 // 'A'
const END_ARRAY = 0x24 // '$'

/** Beyond these the general path is as fast, and a value this big is not a plain task. */
const MAX_DEPTH = 8
const MAX_OBJECTS = 64
const MAX_ARRAY = 1024

// --- writing ---------------------------------------------------------------------------

let out = Buffer.allocUnsafeSlow(4096)
let pos = 0
// Objects written in this value: a second sighting is a shared reference. At most
// MAX_OBJECTS, so a list searched from the start costs less than a Set's hashing. Its
// slots are its own from the start (defined, not assigned), so that a setter planted on
// Array.prototype never sees what is written into them.
const seen = Array.from({ length: MAX_OBJECTS })
let seenCount = 0

function sighted(v) {
  for (let i = 0; i < seenCount; i++) if (seen[i] === v) return true
  return false
}
let writing = false
/** writeArray's `largeFrom`, and whether a value reached it. */
let largeFrom = Infinity
let large = false
let dv = new DataView(out.buffer, out.byteOffset, out.byteLength)

function room(n) {
  if (pos + n <= out.length) return
  const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, pos + n))
  out.copy(bigger, 0, 0, pos)
  out = bigger
  dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
}

function varint(n) {
  room(5)
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  out[pos++] = n
}

function isOneByte(s) {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false
  return true
}

function string(s) {
  const length = s.length
  if (length < 128) {
    // Short: written as one-byte in the same pass that checks it is one-byte (the
    // length fits the one varint byte), undone if a wider character turns up.
    room(2 + length)
    // Locals, not the module's `out` and `pos`: the loop keeps them in registers.
    const bytes = out
    const start = pos
    bytes[start] = ONE_BYTE
    bytes[start + 1] = length
    let at = start + 2
    let i = 0
    for (let c; i < length && (c = s.charCodeAt(i)) <= 0xff; i++) bytes[at++] = c
    if (i === length) {
      pos = at
      return
    }
  } else if (isOneByte(s)) {
    room(6 + length)
    out[pos++] = ONE_BYTE
    varint(length)
    pos += out.write(s, pos, 'latin1')
    return
  }
  const bytes = length * 2
  room(7 + bytes)
  // V8 aligns two-byte contents on an even offset with a padding tag.
  let header = 2
  for (let n = bytes; n >= 0x80; n >>>= 7) header++
  if ((pos + header) & 1) out[pos++] = PADDING
  out[pos++] = TWO_BYTE
  varint(bytes)
  pos += out.write(s, pos, 'utf16le')
}

/**
 * Writes `value`; false if it is not plain (then what was written is to be dropped, and
 * `v8.serialize` reads the value again: a getter met before the non-plain part runs
 * twice, where structured cloning alone would run it once).
 */
function value(v, depth) {
  switch (typeof v) {
    case 'undefined':
      room(1)
      out[pos++] = UNDEFINED
      return true
    case 'boolean':
      room(1)
      out[pos++] = v ? TRUE : FALSE
      return true
    case 'number':
      room(9)
      if ((v | 0) === v && !Object.is(v, -0)) {
        out[pos++] = INT32
        varint(((v << 1) ^ (v >> 31)) >>> 0) // zigzag
      } else {
        out[pos++] = DOUBLE
        dv.setFloat64(pos, v, true)
        pos += 8
      }
      return true
    case 'string':
      string(v)
      return true
    case 'object':
      if (v === null) {
        room(1)
        out[pos++] = NULL
        return true
      }
      return object(v, depth)
    default:
      return false // bigint, symbol, function
  }
}

function isLarge() {
  large = true
  return false
}

function object(v, depth) {
  if (depth >= MAX_DEPTH || seenCount >= MAX_OBJECTS || sighted(v) || isProxy(v)) return false
  const first = seenCount === 0
  seen[seenCount++] = v
  const proto = Object.getPrototypeOf(v)
  if (proto === Array.prototype) {
    const length = v.length
    if (length > MAX_ARRAY) return false
    // Dense, with no property besides its elements.
    const keys = Object.keys(v)
    if (keys.length !== length) return false
    if (first && length >= largeFrom) return isLarge()
    room(1)
    out[pos++] = BEGIN_ARRAY
    varint(length)
    // Each index its own: with the key count equal to the length, there is no hole and
    // no property besides the elements (a hole would read Array.prototype[i]).
    for (let i = 0; i < length; i++) if (!Object.hasOwn(v, i) || !value(v[i], depth + 1)) return false
    room(1)
    out[pos++] = END_ARRAY
    varint(0)
    varint(length)
    return true
  }
  if (proto !== Object.prototype) return false
  const keys = Object.keys(v)
  if (first && keys.length >= largeFrom) return isLarge()
  room(1)
  out[pos++] = BEGIN_OBJECT
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    const c = key.charCodeAt(0)
    // V8 writes array-index keys as numbers: left to it, with anything digit-led.
    if (c >= 0x30 && c <= 0x39) return false
    string(key)
    if (!value(v[key], depth + 1)) return false
  }
  room(1)
  out[pos++] = END_OBJECT
  varint(keys.length)
  return true
}

/**
 * `values` as V8 would serialize the array `values`, or NOT_PLAIN. `values` is an
 * array baton made (an envelope: dense, nothing else on it), so only its elements are
 * checked. The bytes are a view of a buffer that the next call overwrites: copy them
 * (as the native core does) before encoding again. LARGE if the first object met has
 * `largeFrom` entries or more: nothing of the value has been read then (no getter ran),
 * so that the caller may write it otherwise.
 */
function writeArray(values, largeFrom_ = Infinity) {
  // A getter that submits a task while this one is written: that one takes the general path.
  if (writing) return NOT_PLAIN
  writing = true
  largeFrom = largeFrom_
  large = false
  try {
    pos = 0
    const length = values.length
    room(HEADER.length + 6)
    for (let i = 0; i < HEADER.length; i++) out[pos++] = HEADER[i]
    out[pos++] = BEGIN_ARRAY
    varint(length)
    for (let i = 0; i < length; i++) if (!value(values[i], 1)) return large ? LARGE : NOT_PLAIN
    room(11)
    out[pos++] = END_ARRAY
    varint(0)
    varint(length)
    return out.subarray(0, pos)
  } finally {
    // Nothing of the value is kept past the call.
    while (seenCount > 0) seen[--seenCount] = undefined
    writing = false
  }
}

// --- reading ---------------------------------------------------------------------------

let input
let at = 0
/** Where the value being read ends in `input`. */
let end = 0

function readVarint() {
  let n = 0
  let shift = 0
  for (;;) {
    if (at >= end || shift > 28) throw NOT_PLAIN
    const byte = input[at++]
    n += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return n
    shift += 7
  }
}

// Short one-byte strings (keys, names, ids) come back task after task: a direct-mapped
// cache of the last ones decoded spares a native decode and a new string each time.
const CACHED_LENGTH = 24
const cache = new Array(256).fill('')

function cachedString(start, end) {
  const length = end - start
  const slot = (length * 31 + input[start] * 7 + input[end - 1]) & 255
  const cached = cache[slot]
  if (cached.length === length) {
    let i = 0
    while (i < length && cached.charCodeAt(i) === input[start + i]) i++
    if (i === length) return cached
  }
  const decoded = input.toString('latin1', start, end)
  cache[slot] = decoded
  return decoded
}

function readString(tag) {
  const bytes = readVarint()
  if (at + bytes > end) throw NOT_PLAIN
  const start = at
  at += bytes
  if (tag === ONE_BYTE) return bytes > 0 && bytes <= CACHED_LENGTH ? cachedString(start, at) : input.toString('latin1', start, at)
  if (bytes & 1) throw NOT_PLAIN
  return input.toString('utf16le', start, at)
}

// A tag read past `end` (into the next value of a batch) cannot make a wrong value:
// the value must end exactly at `end`, or it is not plain.
function readTag() {
  let tag = input[at++]
  while (tag === PADDING) tag = input[at++]
  return tag
}

/**
 * `length` values read in order, as an array whose elements are defined, not assigned
 * (assigning to a hole would call a setter planted on Array.prototype). Short arrays,
 * such as every payload's envelope, as literals: Array.from's per-element callback
 * costs more than the rest of a short array.
 */
function readElements(length, depth) {
  switch (length) {
    case 0:
      return []
    case 1:
      return [read(depth)]
    case 2:
      return [read(depth), read(depth)]
    case 3:
      return [read(depth), read(depth), read(depth)]
    case 4:
      return [read(depth), read(depth), read(depth), read(depth)]
    default:
      return Array.from({ __proto__: null, length }, () => read(depth))
  }
}

function read(depth) {
  if (depth > MAX_DEPTH) throw NOT_PLAIN
  const tag = readTag()
  switch (tag) {
    case UNDEFINED:
      return undefined
    case NULL:
      return null
    case TRUE:
      return true
    case FALSE:
      return false
    case INT32: {
      const z = readVarint()
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2
    }
    case DOUBLE: {
      if (at + 8 > end) throw NOT_PLAIN
      const n = input.readDoubleLE(at)
      at += 8
      return n
    }
    case ONE_BYTE:
    case TWO_BYTE:
      return readString(tag)
    case BEGIN_ARRAY: {
      const length = readVarint()
      if (length > MAX_ARRAY) throw NOT_PLAIN
      const array = readElements(length, depth + 1)
      if (readTag() !== END_ARRAY || readVarint() !== 0 || readVarint() !== length) throw NOT_PLAIN
      return array
    }
    case BEGIN_OBJECT: {
      const object = {}
      let count = 0
      for (;;) {
        const keyTag = readTag()
        if (keyTag === END_OBJECT) break
        if (keyTag !== ONE_BYTE && keyTag !== TWO_BYTE) throw NOT_PLAIN
        const key = readString(keyTag)
        // Assignment would reach Object.prototype (`__proto__`, or a setter someone put
        // there), or a digit-led key might be an index: the general path defines them
        // as V8 does.
        const c = key.charCodeAt(0)
        if (key in object || (c >= 0x30 && c <= 0x39)) throw NOT_PLAIN
        object[key] = read(depth + 1)
        count++
      }
      if (readVarint() !== count) throw NOT_PLAIN
      return object
    }
    default:
      throw NOT_PLAIN // references, host objects, dates, maps, ...: the general path
  }
}

/** The value V8 serialized into `bytes` (from `start` to `stop`), or NOT_PLAIN if it is not plain. */
function readValue(bytes, start = 0, stop = bytes?.length) {
  if (!Buffer.isBuffer(bytes)) {
    if (!(bytes instanceof Uint8Array)) return NOT_PLAIN
    // A view of the same memory, for Buffer's decoders.
    bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  if (stop - start < HEADER.length) return NOT_PLAIN
  for (let i = 0; i < HEADER.length; i++) if (bytes[start + i] !== HEADER[i]) return NOT_PLAIN
  input = bytes
  at = start + HEADER.length
  end = stop
  try {
    const result = read(0)
    return at === stop ? result : NOT_PLAIN
  } catch (error) {
    if (error === NOT_PLAIN) return NOT_PLAIN
    throw error
  } finally {
    input = undefined
  }
}

module.exports = { LARGE, MAX_ARRAY, MAX_DEPTH, MAX_OBJECTS, NOT_PLAIN, readValue, writeArray }
