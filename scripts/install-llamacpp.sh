#!/usr/bin/env bash
# Installs llama.cpp's prebuilt CPU libraries (the npm package @node-llama-cpp/linux-x64, the same build the
# llama4-tiny fixtures were made with) into .llamacpp/ under the repository, for the side-by-side peer in
# llama4j-bench (org.llama4j.bench.llamacpp). Idempotent: does nothing when the pinned version is present.
#
#   scripts/install-llamacpp.sh            # install (needs npm and access to the npm registry)
#   LLAMACPP_NPM_VERSION=3.22.1 ...        # the pinned version (default)
#
# The libraries are found by llama4j from this folder, or from LLAMA4J_LLAMACPP_DIR when that is set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${LLAMACPP_NPM_VERSION:-3.22.1}"
PACKAGE="@node-llama-cpp/linux-x64"
PREFIX="$ROOT/.llamacpp"
PKG_DIR="$PREFIX/node_modules/$PACKAGE"
LIB_DIR="$PKG_DIR/bins/linux-x64"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "install-llamacpp: $PACKAGE only has Linux x86-64 binaries; this machine is $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

installed_version() {
  [ -f "$PKG_DIR/package.json" ] || return 1
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG_DIR/package.json" | head -n1
}

if [ "$(installed_version || true)" = "$VERSION" ] && ls "$LIB_DIR"/libllama*.so >/dev/null 2>&1; then
  echo "install-llamacpp: $PACKAGE@$VERSION already installed" >&2
else
  command -v npm >/dev/null 2>&1 || { echo "install-llamacpp: npm is required (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$PREFIX"
  # A private package.json keeps npm from walking up to some other project; --ignore-scripts: we only need files.
  [ -f "$PREFIX/package.json" ] || echo '{"name":"llama4j-llamacpp-peer","private":true}' > "$PREFIX/package.json"
  echo "install-llamacpp: installing $PACKAGE@$VERSION into $PREFIX" >&2
  npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
      "$PACKAGE@$VERSION" >&2
  [ "$(installed_version || true)" = "$VERSION" ] \
    || { echo "install-llamacpp: $PACKAGE@$VERSION did not install into $PKG_DIR" >&2; exit 1; }
fi

# What is there. The package ships one ggml CPU backend per CPU generation (libggml-cpu-<variant>.so); llama4j
# loads them with ggml_backend_load_all_from_path, which dlopens each and keeps the one whose
# ggml_backend_score() is highest for this CPU. LLAMA4J_LLAMACPP_CPU=<variant> forces one (e.g. haswell = AVX2).
echo "llama.cpp libraries: $LIB_DIR"
for lib in "$LIB_DIR"/libllama*.so "$LIB_DIR"/libggml.*so "$LIB_DIR"/libggml-base.so; do
  [ -e "$lib" ] && echo "  $(basename "$lib")"
done
variants="$(cd "$LIB_DIR" && ls libggml-cpu-*.so | sed 's/^libggml-cpu-//; s/\.so$//' | tr '\n' ' ')"
echo "CPU backend variants: $variants"
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
level="no AVX"
for f in avx avx2 avx512f amx_tile; do case "$flags" in *" $f "*) level="$f";; esac; done
echo "this CPU's highest vector extension: $level (ggml picks the variant at load time)"
