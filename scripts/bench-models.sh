#!/usr/bin/env bash
# Generates the benchmark models (synthetic random weights, real Llama 4 shapes) with `llama4j create-model`
# into bench-models/ (ignored by git). Skips files that already exist, so an interrupted run can be resumed.
#
#   scripts/bench-models.sh                      # everything below, in this order
#   scripts/bench-models.sh scout-bench.Q4_0 maverick-bench.Q4_K_M   # only these (NAME = PRESET.TYPE[.full-vocab])
#   BENCH_MODELS_DIR=/big/disk scripts/bench-models.sh
#   LLAMA4J="java -jar /tmp/cli/llama4j-cli.jar" scripts/bench-models.sh   # a fixed build instead of ./llama4j
#
# Models (about 2.2 B weights Scout-shaped, 2.8 B Maverick-shaped; BF16 files are 4-6 GB, Q4 files 1.2-1.7 GB):
#   scout-bench    x  Q4_0 Q4_K_M Q8_0 BF16
#   maverick-bench x  Q4_0 Q4_K_M Q8_0 BF16
#   scout-bench.Q4_K_M.full-vocab   (Llama 4's real 202048-token vocabulary: a 0.8 GB embedding + output head)
# The cheap, most-used ones come first. A fixed seed makes the files reproducible.
#
# PRESET may also name a config in scripts/bench-configs/ (PRESET.json): scout-bench-4l and maverick-bench-4l are the
# same shapes as the presets (every matrix, the vocabulary) with 4 layers instead of 12 (the fewest llama.cpp accepts:
# one NoPE layer), for machines where the full files take too long to write. Per-layer kernels are identical, so
# llama4j / llama.cpp ratios stay meaningful, but the output head is a larger share of each token (absolute speeds
# are not those of the 12-layer models).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_MODELS_DIR:-$ROOT/bench-models}"
LLAMA4J="${LLAMA4J:-$ROOT/llama4j}"
SEED="${BENCH_SEED:-1234}"

DEFAULT_MODELS=(
  scout-bench.Q4_0
  scout-bench.Q4_K_M
  maverick-bench.Q4_K_M
  maverick-bench.Q4_0
  scout-bench.Q8_0
  maverick-bench.Q8_0
  scout-bench.Q4_K_M.full-vocab
  scout-bench.BF16
  maverick-bench.BF16
)
if [ "$#" -gt 0 ]; then MODELS=("$@"); else MODELS=("${DEFAULT_MODELS[@]}"); fi

mkdir -p "$OUT"
for name in "${MODELS[@]}"; do
  IFS=. read -r preset type variant <<<"$name"
  if [ -z "$preset" ] || [ -z "$type" ]; then
    echo "bench-models: '$name' is not PRESET.TYPE[.full-vocab] (e.g. scout-bench.Q4_K_M)" >&2; exit 2
  fi
  extra=()
  case "${variant:-}" in
    "") ;;
    full-vocab) extra=(--full-vocab) ;;
    *) echo "bench-models: unknown variant '$variant' in '$name' (only full-vocab)" >&2; exit 2 ;;
  esac
  config="$preset"
  [ -f "$ROOT/scripts/bench-configs/$preset.json" ] && config="$ROOT/scripts/bench-configs/$preset.json"
  file="$OUT/$name.gguf"
  if [ -s "$file" ]; then
    echo "bench-models: $file exists, skipped" >&2
    continue
  fi
  echo "bench-models: creating $file" >&2
  start=$(date +%s)
  # Written under a temporary name so an interrupted run never leaves a truncated model behind.
  # shellcheck disable=SC2086 # LLAMA4J may be a command with arguments
  $LLAMA4J create-model --config "$config" --name "$preset" --type "$(echo "$type" | tr '[:upper:]' '[:lower:]')" --seed "$SEED" \
      "${extra[@]}" --quiet --output "$file.partial"
  mv "$file.partial" "$file"
  echo "bench-models: $file done in $(( $(date +%s) - start )) s ($(du -h "$file" | cut -f1))" >&2
done
