#!/usr/bin/env bash
# hyperfuse's CPU mode against the seed's PyTorch loop on equal core counts, in one run.
# Usage: bench/cpu_vs_pytorch.sh [CORES] [PYTORCH_TRAININGS]
# Builds hyperfuse_bench if needed; prints both throughputs, their ratio and hyperfuse's share
# of the measured FMA peak; writes bench_cpu.json to $OUT when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
cores=${1:-$(nproc)}
pytorch_trainings=${2:-$((2 * cores))}

if [ ! -x build/bench/hyperfuse_bench ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build --target hyperfuse_bench >/dev/null
fi

python=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c "import torch" 2>/dev/null; then python=$candidate; break; fi
done

echo "== hyperfuse CPU mode, $cores threads (bench/seed_network.toml)"
hyperfuse=$(build/bench/hyperfuse_bench bench/seed_network.toml --threads "$cores" --json)
echo "$hyperfuse"
if [ -z "$python" ]; then
  echo "== PyTorch baseline skipped: no python3 with torch (Debian: apt-get install python3-torch)"
  pytorch='null'
else
  echo "== PyTorch, $cores processes x 1 thread, $pytorch_trainings trainings (bench/pytorch_seed_training.py)"
  pytorch=$("$python" bench/pytorch_seed_training.py --processes "$cores" --trainings "$pytorch_trainings")
  echo "$pytorch"
fi

summary=$("${python:-python3}" - "$hyperfuse" "$pytorch" <<'PY'
import json, sys
h = json.loads(sys.argv[1]); p = json.loads(sys.argv[2])
out = {"cores": h["threads"], "hyperfuse": h, "pytorch": p}
print(f"hyperfuse: {h['trainings_per_second']:.3f} trainings/s, {h['gflops']:.1f} GFLOP/s = {100*h['share_of_peak']:.1f}% of the measured FMA peak ({h['fma_peak_gflops']:.1f} GFLOP/s)")
if p:
    out["speedup"] = h["trainings_per_second"] / p["trainings_per_second"]
    print(f"pytorch:   {p['trainings_per_second']:.3f} trainings/s")
    print(f"ratio:     hyperfuse is {out['speedup']:.1f}x PyTorch on {h['threads']} cores")
print("JSON " + json.dumps(out))
PY
)
echo "$summary"
if [ -n "${OUT:-}" ]; then echo "$summary" | sed -n 's/^JSON //p' > "$OUT/bench_cpu.json"; fi
