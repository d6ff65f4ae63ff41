'use strict'

function isMusl() {
  // glibc reports its version in the process report header; musl does not.
  const report = process.report?.getReport?.()
  return !report?.header?.glibcVersionRuntime
}

/** The platform part of binary and package names, as the napi-rs CLI spells it. */
function platformTriple({ platform, arch } = process) {
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

module.exports = { platformTriple }
