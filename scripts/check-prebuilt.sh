#!/usr/bin/env bash
# Proves that a user without Rust gets a working baton from the prebuilt package:
# packs the root package and npm/linux-x64-gnu (holding the binary built in the repo
# root), installs both tarballs into an empty project with no cargo/rustc on PATH, and
# checks that the install hook took the prebuilt, built nothing, and that the CommonJS
# and ESM entries both work. Linux x64 glibc only (the one prebuilt a local build gives).
#
#   bash scripts/check-prebuilt.sh      (or: npm run test:prebuilt)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
platform=linux-x64-gnu
binary="$root/baton.$platform.node"
started=$SECONDS

fail() {
  echo "check-prebuilt: $*" >&2
  exit 1
}

[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || fail "runs on Linux x64 only"
[[ -f $binary ]] ||
  fail "missing $binary: build it first (npm run build, or npx @napi-rs/cli@3 build --platform --release)"
command -v node >/dev/null || fail "node is not on PATH"
command -v npm >/dev/null || fail "npm is not on PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/baton-prebuilt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/stage" "$tmp/tarballs" "$tmp/home" "$tmp/project"

# --- Tarballs --------------------------------------------------------------------------
# `npm pack` prints the tarball's file name as the last line of its standard output.
pack() { # dir -> path of the tarball
  local name
  name=$(cd "$1" && npm pack --silent --pack-destination "$tmp/tarballs" | tail -n 1)
  [[ -f $tmp/tarballs/$name ]] || fail "npm pack in $1 gave no tarball"
  echo "$tmp/tarballs/$name"
}

cp -R "$root/npm/$platform" "$tmp/stage/$platform"
cp "$binary" "$tmp/stage/$platform/"
platform_tgz=$(pack "$tmp/stage/$platform")
# The root package as publishing makes it: packed, with the platform packages added
# as optional dependencies (scripts/optional-deps.js, as the publish job runs it).
tar -xzf "$(pack "$root")" -C "$tmp/stage"
rm "$tmp"/tarballs/async-baton-[0-9]*.tgz
node "$root/scripts/optional-deps.js" "$tmp/stage/package/package.json" >/dev/null
root_tgz=$(pack "$tmp/stage/package")

tar -tzf "$platform_tgz" | grep -qx "package/baton.$platform.node" ||
  fail "$(basename "$platform_tgz") does not contain baton.$platform.node"
# A binary in the root tarball would be loaded before the prebuilt and prove nothing.
if tar -tzf "$root_tgz" | grep -q '\.node$'; then
  fail "$(basename "$root_tgz") contains a .node file: the root package must not ship binaries"
fi

# --- A PATH without Rust ---------------------------------------------------------------
has_rust() { # PATH -> true if cargo, rustc or rustup resolves under it
  env -i PATH="$1" /bin/sh -c 'command -v cargo || command -v rustc || command -v rustup' >/dev/null
}
node_dir=$(dirname "$(command -v node)")
npm_dir=$(dirname "$(command -v npm)")
safe_path="$node_dir:$npm_dir:/usr/bin:/bin"
if has_rust "$safe_path"; then
  # Rust shares a directory with node/npm or /usr/bin: expose only what npm needs.
  mkdir "$tmp/bin"
  for tool in node npm sh bash env; do
    ln -s "$(command -v "$tool")" "$tmp/bin/$tool"
  done
  safe_path="$tmp/bin"
fi
has_rust "$safe_path" && fail "cargo/rustc is still reachable under PATH=$safe_path"

# Nothing of the caller's environment (npm_config_*, proxies, ~/.npmrc, CARGO*) leaks in.
# --offline: both packages come from the local tarballs, so npm must not ask the
# registry; the other platforms' optional dependencies are skipped as unreachable.
clean() {
  env -i HOME="$tmp/home" PATH="$safe_path" LANG=C.UTF-8 \
    npm_config_cache="$tmp/npm-cache" npm_config_offline=true \
    npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false \
    "$@"
}

# --- Install into an empty project -----------------------------------------------------
cd "$tmp/project"
clean npm init -y >/dev/null
# Both tarballs in one install: the local async-baton-linux-x64-gnu satisfies async-baton's optional
# dependency on async-baton-linux-x64-gnu@0.1.0. --foreground-scripts shows the install hook.
if ! clean npm install --foreground-scripts --no-audit --no-fund \
  "$platform_tgz" "$root_tgz" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" >&2
  fail "npm install of the tarballs failed"
fi
grep -q 'node scripts/install.js' "$tmp/install.log" || {
  cat "$tmp/install.log" >&2
  fail "baton's install script did not run"
}
[[ -f node_modules/async-baton-$platform/baton.$platform.node ]] ||
  fail "node_modules/async-baton-$platform/baton.$platform.node is missing"
[[ -L node_modules/async-baton || -L node_modules/async-baton-$platform ]] &&
  fail "npm linked a package instead of installing its tarball"

# --- Use it ----------------------------------------------------------------------------
cat >check.cjs <<'EOF'
'use strict'
const assert = require('node:assert/strict')
const { realpathSync } = require('node:fs')
const { join } = require('node:path')

async function main() {
  const baton = require('async-baton')
  assert.equal(await baton.fibonacci(10), 55n)

  const esm = await import('async-baton')
  assert.equal(esm.fibonacci, baton.fibonacci, 'ESM and CommonJS expose the same fibonacci')
  assert.equal(await esm.fibonacci(10), 55n)

  const prebuilt = realpathSync(join(__dirname, 'node_modules', `async-baton-${process.argv[2]}`, `baton.${process.argv[2]}.node`))
  const loaded = Object.keys(require.cache).filter((file) => file.endsWith('.node'))
  assert.deepEqual(loaded.map((file) => realpathSync(file)), [prebuilt], 'the prebuilt binary is the one loaded')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
EOF
clean node check.cjs "$platform" || fail "baton does not work from the prebuilt package"

built=$(find node_modules/async-baton \( -name 'baton.*.node' -o -name target -type d \) -print)
[[ -z $built ]] || fail "the install built from source: $built"

echo "prebuilt: ok ($((SECONDS - started))s)"
