#!/usr/bin/env bash
# Side by side with llama.cpp (docs/performance.md): for each row, llama-bench then `cairn bench` on the same file,
# 1 and 2 threads, pp64 / tg64, 5 repeats; then prints the markdown table (side-by-side-table.py).
#   LLAMA_BENCH=/path/to/llama-bench bench/side-by-side.sh OUTDIR [SHAPE:TYPE ...]
# llama-bench: llama.cpp built from source (docs/performance.md says how); cairn: this checkout's Release build.
# The synthetic models are written once to ~/.cache/cairn/models (or $XDG_CACHE_HOME/cairn/models) by cairn bench.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: side-by-side.sh OUTDIR [SHAPE:TYPE ...]}; shift
lb=${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench built from source}
dll=$root/src/Cairn.Cli/bin/Release/net10.0/cairn.dll
[[ -f $dll ]] || dotnet build "$root/src/Cairn.Cli" -c Release >/dev/null
cache=${XDG_CACHE_HOME:-$HOME/.cache}/cairn/models
rows=${*:-"1.1b:Q4_0 1.1b:Q8_0 1.1b:Q4_K_M 1.1b:F16 110m:Q4_0 110m:Q8_0 110m:Q4_K_M 110m:F16"}
mkdir -p "$out"
load() { cut -d' ' -f1 /proc/loadavg; }
for row in $rows; do
  s=${row%%:*}; t=${row##*:}
  dotnet "$dll" bench -m "synthetic:$s:$t" -t 1 -r 1 -p 4 -n 4 >/dev/null 2>&1   # writes the model once
  f=$cache/synthetic-$s-$t-seed1-v1.gguf
  for th in 1 2; do
    echo "== $s $t t$th load $(load)" | tee -a "$out/log"
    "$lb" -m "$f" -t "$th" -p 64 -n 64 -r 5 -o json > "$out/llama-$s-$t-t$th.json" 2>/dev/null
    echo "   llama done load $(load)" | tee -a "$out/log"
    dotnet "$dll" bench -m "synthetic:$s:$t" -t "$th" -p 64 -n 64 -r 5 --json --bandwidth > "$out/cairn-$s-$t-t$th.json" 2>/dev/null
    echo "   cairn done load $(load)" | tee -a "$out/log"
  done
done
python3 "$root/bench/side-by-side-table.py" "$out"
