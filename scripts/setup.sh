#!/usr/bin/env bash
# One-time, idempotent set-up of everything BatchLab needs on a fresh Debian machine
# that has only rustup's Rust, gcc, Python 3, Node 20 and npm.
# Each step checks first and skips what is already present; nothing is downloaded
# from outside the package registries (crates.io, Debian, npm, PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# Must equal the `wasm-bindgen` version pinned with `=` in Cargo.toml / Cargo.lock.
WASM_BINDGEN_VERSION=0.2.130

log() { printf '[setup] %s\n' "$*"; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || [ -e /usr/share/vulkan/icd.d/lvp_icd.json ] || need_apt+=(mesa-vulkan-drivers)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || need_apt+=(libvulkan1)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
  log "cargo install trunk $TRUNK_VERSION (several minutes)"
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install trunk --version "$TRUNK_VERSION" --locked --no-default-features --quiet
fi

if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (several minutes)"
  # Not --locked: the registry mirror lacks one of its locked dependencies.
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
fi

if [ -f tests/browser/package-lock.json ]; then
  if [ ! -d tests/browser/node_modules ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    log "npm ci (tests/browser)"
    (cd tests/browser && npm ci --no-audit --no-fund --silent)
  fi
fi

# Ray (PyPI), for the Ray driver's test against a real local cluster (scripts/test-ray.sh),
# in its own virtual environment.
RAY_VERSION=2.60.0
if [ ! -x .venv-ray/bin/ray ] || ! .venv-ray/bin/python -c "import ray, sys; sys.exit(ray.__version__ != '$RAY_VERSION')" 2>/dev/null; then
  log "pip install ray==$RAY_VERSION (.venv-ray)"
  python3 -m venv .venv-ray
  .venv-ray/bin/pip install --quiet --disable-pip-version-check "ray==$RAY_VERSION"
fi
log "done"
