#!/usr/bin/env bash
# What the CUDA backend asks of a GPU, counted on the host emulation (tests/cuda_emulation):
# kernel launches, cuBLAS calls, host<->device copies and their bytes, for
#   1. one training step of the seed network (batch 32): the difference between a run of three
#      steps and a run of two, everything else (setup, evaluation) equal. On the fused path a step
#      costs no launch and no copy; bytes_h2d is the 32 more rows of the larger training file,
#      uploaded once with the data set (the resident rows), not a per-step copy;
#   2. one epoch per pack of configs/seed.toml on 10,000 training rows: the difference between a
#      2-epoch and a 1-epoch run of a sample of the grid's combinations (one pack per layout and
#      batch size, as the full grid has), divided by the packs. Launches and copies per pack do
#      not depend on how many networks a pack holds, so the sample measures the grid's figure at a
#      fraction of the emulation's time.
# Usage: bench/emulated_counters.sh [BUILD_DIR] [PER_PACK_JSON]   (default build-emu; configure it
#   with cmake -S . -B build-emu -DHYPERFUSE_CUDA=EMULATE). Prints JSON; with PER_PACK_JSON also
#   writes the per-pack, per-epoch counters there as flat JSON for bench/fused_model --counters.
# Issue 11 asks for at most 20 launches + cuBLAS calls per pack and epoch and no host-to-device
# copy per step; the script exits 1 when the figures break either.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-emu}
per_pack_json=${2:-}
bin=$build/hyperfuse
[ -x "$bin" ] || { echo "bench/emulated_counters.sh: $bin not found; build the emulation first" >&2; exit 2; }
"$bin" --version | grep -q "emulated" || { echo "bench/emulated_counters.sh: $bin is not an emulated build" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HYPERFUSE_EMU_RACE_CHECK=0  # counting, not checking: the tests check

"$bin" make-data --out-dir "$work/data" --train-rows 10000 --test-rows 2500 --seed 7 >/dev/null
head -n 64 "$work/data/train.csv" >"$work/data/train64.csv"
head -n 96 "$work/data/train.csv" >"$work/data/train96.csv"
head -n 256 "$work/data/test.csv" >"$work/data/test256.csv"

# counters RUN_NAME CONFIG_TEXT: runs hyperfuse on the emulated GPU and prints its counters JSON.
counters() {
  printf '%s\n' "$2" >"$work/$1.toml"
  HYPERFUSE_EMU_COUNTERS="$work/$1.json" "$bin" run "$work/$1.toml" --device cuda --fresh -q \
    --output-dir "$work/out-$1" >/dev/null
  cat "$work/$1.json"
}

seed_network() {  # $1: training file
  cat <<EOF
[data]
train = "data/$1"
test = "data/test256.csv"
[search]
rerun_count = 1
permutations = 0
[output]
keep_models = 0
[hyperparameters]
hidden_layers = [[2, 3, 2, 1, 0.5]]
batch_size = [32]
max_epochs = [1]
EOF
}

seed_sample() {  # $1: epochs. Eight random combinations of configs/seed.toml's grid.
  sed -e 's|^train = .*|train = "data/train.csv"|' -e 's|^test  = .*|test = "data/test.csv"|' \
    -e 's|^explore_all_combinations = true.*|explore_all_combinations = false|' \
    -e 's|^number_of_combinations_to_try = .*|number_of_combinations_to_try = 8|' \
    -e "s|^max_epochs = .*|max_epochs = [$1]|" -e 's|^rerun_count = .*|rerun_count = 1\npermutations = 0|' \
    configs/seed.toml
}

two=$(counters two_steps "$(seed_network train64.csv)")
three=$(counters three_steps "$(seed_network train96.csv)")
one_epoch=$(counters one_epoch "$(seed_sample 1)")
two_epochs=$(counters two_epochs "$(seed_sample 2)")
packs=$("$bin" run "$work/two_epochs.toml" --device cuda --dry-run 2>&1 | sed -n "s/^  packs  *\([0-9][0-9]*\) .*/\1/p" | head -n 1)

/usr/bin/env python3 - "$two" "$three" "$one_epoch" "$two_epochs" "${packs:-0}" "$per_pack_json" <<'PY'
import json, sys
two, three, one, two_e = (json.loads(a) for a in sys.argv[1:5])
packs = int(sys.argv[5])
keys = ["launches", "blas_calls", "copies_h2d", "copies_d2h", "bytes_h2d", "bytes_d2h", "training_steps", "fused_epoch_launches"]
step = {k: three[k] - two[k] for k in keys}
epoch = {k: two_e[k] - one[k] for k in keys}
per_pack = {k: (epoch[k] / packs if packs else None) for k in keys}
print(json.dumps({"seed_network_one_step_batch_32": step,
                  "seed_toml_one_epoch_10000_rows": {"packs": packs, "all_packs": epoch, "per_pack": per_pack}},
                 indent=2))
if len(sys.argv) > 6 and sys.argv[6]:
    with open(sys.argv[6], "w") as f:
        json.dump(per_pack, f)
within = packs > 0 and per_pack["launches"] + per_pack["blas_calls"] <= 20 and step["copies_h2d"] == 0
if not within:
    print("emulated_counters: over issue 11's budget (20 launches + cuBLAS calls per pack and epoch, "
          "no host-to-device copy per step)", file=sys.stderr)
sys.exit(0 if within else 1)
PY
