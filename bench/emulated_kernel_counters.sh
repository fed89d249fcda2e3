#!/usr/bin/env bash
# What a profiler would count in the fused epoch kernel, counted on the host emulation
# (tests/cuda_emulation, README.md "Kernel counters"): for each of configs/seed.toml's layouts at
# batch 32 and 64, one pack epoch of a small pack (Adam and RMSprop, the grid's other settings at
# their first values) on ROWS training rows; prints per layout and batch the shared-memory
# bank-conflict factor (wavefronts over the minimum the access widths need) over the epoch, global
# sectors over the minimum, warps active per scheduler, barriers per step, and the phases (barrier
# intervals, named by the __syncthreads that ends them) that carry most shared wavefronts.
# Usage: bench/emulated_kernel_counters.sh [BUILD_DIR [ROWS [JSON_OUT]]]   (default build-emu, 320)
#   JSON_OUT: the raw counters per layout and batch, as one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-emu}
rows=${2:-320}
json_out=${3:-}
bin=$build/hyperfuse
[ -x "$bin" ] || { echo "bench/emulated_kernel_counters.sh: $bin not found; build the emulation first" >&2; exit 2; }
"$bin" --version | grep -q "emulated" || { echo "bench/emulated_kernel_counters.sh: $bin is not an emulated build" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HYPERFUSE_EMU_RACE_CHECK=0 # counting, not checking: the tests check
export HYPERFUSE_EMU_KERNEL_COUNTERS=1

"$bin" make-data --out-dir "$work/data" --train-rows "$rows" --test-rows 64 --seed 7 >/dev/null

layouts=("[2, 3, 2, 1, 0.5]" "[2, 3, 2, 1, 0.5, 0.25]")
runs=()
for layout_index in 0 1; do
  for batch in 32 64; do
    name="layout${layout_index}_batch${batch}"
    cat >"$work/$name.toml" <<EOF
[data]
train = "data/train.csv"
test = "data/test.csv"
[search]
rerun_count = 1
permutations = 0
[output]
keep_models = 0
[hyperparameters]
learning_rate = [0.001]
max_epochs = [1]
batch_size = [$batch]
hidden_layers = [${layouts[$layout_index]}]
loss_function = ["BCE"]
activation_function = ["LeakyReLU"]
optimizer = ["Adam", "RMSprop"]
dropout = [0.2]
weight_initialization = ["xavier_uniform"]
EOF
    HYPERFUSE_EMU_COUNTERS="$work/$name.json" "$bin" run "$work/$name.toml" --device cuda --fresh -q \
      --output-dir "$work/out-$name" >/dev/null
    runs+=("$name" "${layouts[$layout_index]}" "$batch" "$work/$name.json")
  done
done

/usr/bin/env python3 - "$json_out" "${runs[@]}" <<'PY'
import json, sys
json_out, args = sys.argv[1], sys.argv[2:]
everything = {}
for i in range(0, len(args), 4):
    name, layout, batch, path = args[i:i + 4]
    with open(path) as f:
        counters = json.load(f)
    everything[name] = counters
    steps = counters["training_steps"]
    print(f"== layout {layout}, batch {batch}: {steps} steps (summed over the pack's networks)")
    for kernel, k in counters.get("kernels", {}).items():
        t = k["total"]
        print(f"  {kernel}: {k['kernel_launches']} launches, {k['blocks']} blocks, {k['barriers']} barriers"
              + (f" ({k['barriers'] / steps:.1f} per step)" if "fused_epoch" in kernel and steps else ""))
        print(f"    shared: {t['shared_requests']} requests, {t['shared_wavefronts']} wavefronts, minimum "
              f"{t['shared_minimum_wavefronts']}: bank-conflict factor {t['bank_conflict_factor']}")
        print(f"    global: {t['global_requests']} requests, {t['global_sectors']} sectors, minimum "
              f"{t['global_minimum_sectors']}: {t['sectors_per_minimum']} x the minimum")
        print(f"    warps active per scheduler: mean {t['mean_active_warps_per_scheduler']}, histogram "
              f"{t['active_warps_per_scheduler_histogram']}, intervals with >= 2 on every scheduler "
              f"{t['share_of_intervals_with_two_warps_per_scheduler']}")
        print(f"    warps busy per scheduler (at least half the busiest warp's accesses): mean "
              f"{t['mean_busy_warps_per_scheduler']}, histogram {t['busy_warps_per_scheduler_histogram']}, "
              f"intervals with >= 2 on every scheduler {t['share_of_intervals_with_two_busy_warps_per_scheduler']}")
        phases = sorted(k["phases"].items(), key=lambda p: -p[1]["shared_wavefronts"])
        total_wavefronts = max(1, t["shared_wavefronts"])
        if len(phases) > 1:
            print("    phases by shared wavefronts: the barrier that ends it (#n: n-th in a row), share of the "
                  "kernel's wavefronts, bank-conflict factor, mean active / busy warps per scheduler, share of "
                  "intervals with >= 2 busy on every scheduler")
            for phase, p in phases[:20]:
                print(f"      {phase:28s} {p['shared_wavefronts'] / total_wavefronts:6.1%}  "
                      f"{p['bank_conflict_factor']:<6} {p['mean_active_warps_per_scheduler']:<6} "
                      f"{p['mean_busy_warps_per_scheduler']:<6} "
                      f"{p['share_of_intervals_with_two_busy_warps_per_scheduler']}")
if json_out:
    with open(json_out, "w") as f:
        json.dump(everything, f, indent=1)
PY
