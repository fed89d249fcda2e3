#!/usr/bin/env bash
# The memory plan against what searches really take: for a few searches, the peak that
# `hyperfuse run --dry-run` estimates beside the peak resident memory (ru_maxrss) of the run.
# Figures, never assertions; the measurement behind kProgramGrowthBytes and
# kPerThreadOverheadBytes (host/run/memory_plan.hpp). Usage: bench/memory_estimate.sh [BINARY]
set -euo pipefail

binary=$(realpath "${1:-build/hyperfuse}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$binary" make-data --out-dir tiny --train-rows 200 --test-rows 100 --seed 7 >/dev/null
"$binary" make-data --out-dir wide --train-rows 20000 --test-rows 2000 --seed 7 >/dev/null

write_config() {  # NAME DATA HYPERPARAMETERS
  printf '[data]\ntrain = "%s/train.csv"\ntest = "%s/test.csv"\n[search]\nrerun_count = 1\n' "$2" "$2" >"$1.toml"
  printf '[execution]\ndevice = "cpu"\n[output]\ndir = "out-%s"\n[hyperparameters]\n%s\n' "$1" "$3" >>"$1.toml"
}
write_config tiny tiny $'hidden_layers = [[1]]\nmax_epochs = [2]\nlearning_rate = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008]'
write_config seed tiny $'hidden_layers = [[2, 3, 2, 1, 0.5], [2, 1, 0.5]]\nbatch_size = [32, 64]\nmax_epochs = [2]'
write_config wide wide $'hidden_layers = [[10]]\nbatch_size = [20000]\nmax_epochs = [1]\nlearning_rate = [0.01, 0.003, 0.001, 0.0003]'

# Peak resident memory of a child, in bytes (Linux reports ru_maxrss in KiB).
peak_of() {
  /usr/bin/python3 - "$@" <<'EOF'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
EOF
}

printf '%-6s %3s %14s %14s %7s\n' search -j estimated measured ratio
for search in tiny seed wide; do
  for threads in 1 2 8; do
    estimate=$("$binary" run "$search.toml" -j "$threads" --dry-run | sed -n 's/.*estimated peak memory *\([0-9]*\) bytes.*/\1/p')
    rm -rf "out-$search"
    measured=$(peak_of "$binary" run "$search.toml" -j "$threads" -q)
    printf '%-6s %3d %14d %14d %7.3f\n' "$search" "$threads" "$estimate" "$measured" \
      "$(echo "$measured / $estimate" | bc -l)"
  done
done
