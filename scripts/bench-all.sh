#!/usr/bin/env bash
# Side-by-side table of llama4j and llama.cpp: every model in bench-models/ (or the GGUFs given) at 1 and 2 threads,
# each one `llama4j bench --compare-llamacpp --json` run (same process, same prompt, same settings), then a markdown
# table of medians and ratios (llama4j / llama.cpp; above 1 = llama4j faster for tokens/s). JSON per run is kept in
# bench-results/ (ignored by git).
#
#   scripts/bench-models.sh && scripts/bench-all.sh
#   scripts/bench-all.sh bench-models/scout-bench.Q4_0.gguf            # only these models
#   BENCH_THREADS="1 2 4" BENCH_ARGS="--prompt-tokens 128 --gen-tokens 32 --repeat 2" scripts/bench-all.sh
#
# Needs llama.cpp (scripts/install-llamacpp.sh) and jq. Absolute numbers depend on the machine and its load;
# the ratios come from the same run and are what to compare.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS_DIR="${BENCH_MODELS_DIR:-$ROOT/bench-models}"
RESULTS="${BENCH_RESULTS_DIR:-$ROOT/bench-results}"
LLAMA4J="${LLAMA4J:-$ROOT/llama4j}"
THREADS="${BENCH_THREADS:-1 2}"
# shellcheck disable=SC2206 # word splitting intended
ARGS=(${BENCH_ARGS:-})

command -v jq >/dev/null 2>&1 || { echo "bench-all: jq is required (apt-get install jq)" >&2; exit 1; }
if [ "$#" -gt 0 ]; then
  MODELS=("$@")
else
  shopt -s nullglob
  MODELS=("$MODELS_DIR"/*.gguf)
  [ "${#MODELS[@]}" -gt 0 ] || { echo "bench-all: no models in $MODELS_DIR; run scripts/bench-models.sh first" >&2; exit 1; }
fi

mkdir -p "$RESULTS"
files=()
for model in "${MODELS[@]}"; do
  for t in $THREADS; do
    json="$RESULTS/$(basename "$model" .gguf).t$t.json"
    echo "bench-all: $(basename "$model"), $t thread(s)" >&2
    # shellcheck disable=SC2086 # LLAMA4J may be a command with arguments
    if $LLAMA4J bench --model "$model" --threads "$t" --compare-llamacpp --json "${ARGS[@]}" > "$json.partial"; then
      mv "$json.partial" "$json"
      files+=("$json")
    else
      echo "bench-all: $(basename "$model") at $t thread(s) failed; continuing" >&2
      rm -f "$json.partial"
    fi
  done
done
[ "${#files[@]}" -gt 0 ] || { echo "bench-all: no run succeeded" >&2; exit 1; }

echo
echo "prompt/gen tokens, repeats: $(jq -r '"\(.prompt_tokens)/\(.gen_tokens), \(.repeats)"' "${files[0]}"); threads = llama4j/llama.cpp; median of the repeats"
echo
echo "| model | threads | prefill tok/s llama4j | llama.cpp | ratio | decode tok/s llama4j | llama.cpp | ratio | TTFT ms llama4j / llama.cpp | decode MB/token | roofline % llama4j / llama.cpp | peak RSS MiB llama4j / llama.cpp |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for json in "${files[@]}"; do
  jq -r --arg name "$(basename "$json" .json)" '
    def f(d): if . == null then "n/a" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
    def mib: if . == null then "n/a" else (. / 1048576 | round | tostring) end;
    "| \($name | sub("\\.t[0-9]+$"; "")) | \(.llama4j.threads)/\(.llamacpp.threads)"
    + " | \(.llama4j.prefill_tokens_per_s.median | f(1)) | \(.llamacpp.prefill_tokens_per_s.median | f(1)) | \(.ratio_prefill | f(2))"
    + " | \(.llama4j.decode_tokens_per_s.median | f(2)) | \(.llamacpp.decode_tokens_per_s.median | f(2)) | \(.ratio_decode | f(2))"
    + " | \(.llama4j.time_to_first_token_ms.median | f(0)) / \(.llamacpp.time_to_first_token_ms.median | f(0))"
    + " | \(.decode_weight_bytes_per_token.total / 1e6 | f(1))"
    + " | \(.decode_roofline.llama4j_percent | f(1)) / \(.decode_roofline.llamacpp_percent | f(1))"
    + " | \(.llama4j.peak_rss_bytes | mib) / \(.llamacpp.peak_rss_bytes | mib) |"' "$json"
done
