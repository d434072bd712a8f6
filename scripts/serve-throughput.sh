#!/usr/bin/env bash
# Measures generation throughput of `llama4j serve` with --parallel 1 and 4 in one run: starts the server on
# loopback for each setting, fires CLIENTS concurrent non-streaming chat requests of MAX_TOKENS each, and prints
# completion tokens per second. Usage: scripts/serve-throughput.sh MODEL [CLIENTS] [MAX_TOKENS]
set -euo pipefail
MODEL="${1:?usage: $0 MODEL [CLIENTS] [MAX_TOKENS]}"
CLIENTS="${2:-8}"
MAX_TOKENS="${3:-64}"
PORT="${PORT:-18480}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for P in 1 4; do
  "$ROOT/llama4j" serve --model "$MODEL" --port "$PORT" --parallel "$P" --queue 64 >/tmp/llama4j-serve-$P.log 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$PORT/health")" = 200 ] && break; sleep 0.5
  done
  # Warm-up (JIT) before timing.
  curl -s -o /dev/null "127.0.0.1:$PORT/v1/completions" -d '{"prompt":"warm up","max_tokens":32}'
  START=$(date +%s.%N)
  PIDS=()
  for i in $(seq 1 "$CLIENTS"); do
    curl -s --max-time 600 "127.0.0.1:$PORT/v1/chat/completions" \
      -d "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story number $i\"}],\"max_tokens\":$MAX_TOKENS,\"seed\":$i,\"stop\":[]}" \
      | { sed -n 's/.*"completion_tokens":\([0-9]*\).*/\1/p'; echo; } >"/tmp/llama4j-tp-$P-$i" &
    PIDS+=($!)
  done
  wait "${PIDS[@]}"
  END=$(date +%s.%N)
  TOKENS=$(cat /tmp/llama4j-tp-$P-* | grep -v '^$' | paste -sd+ | bc)
  echo "parallel=$P clients=$CLIENTS completion_tokens=$TOKENS seconds=$(echo "$END - $START" | bc) tokens_per_s=$(echo "scale=1; $TOKENS / ($END - $START)" | bc)"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  rm -f /tmp/llama4j-tp-$P-*
done
