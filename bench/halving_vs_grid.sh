#!/usr/bin/env bash
# Successive halving against the grid it replaces: configs/seed.toml's space (1,024 combinations x
# 3 reruns, 8 epochs) on the D.AT split (the first 80% of dat/test.csv to train and validate, with
# a validation fraction; the last 20% to test), once as the grid and once with
# strategy = "halving". Prints the wall and CPU time of each, the grid rank of halving's winner
# (by the grid's own ranking on the validation rows), and both winners' test p-values.
# Everything goes to a scratch folder (default /tmp/hyperfuse-halving-bench), never into the repo.
#
# Usage: bench/halving_vs_grid.sh [DAT_CSV] [SCRATCH] [MIN_EPOCHS] [REDUCTION_FACTOR]
#   environment: HYPERFUSE=build/hyperfuse, VALIDATION=0.2, THREADS=0 (every core),
#   SKIP_GRID=1 reuses the grid results already in SCRATCH, REPORT_ONLY=1 both runs' (prints the
#   figures again).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dat=${1:-$here/../shared/example_data/dat/test.csv}
scratch=${2:-/tmp/hyperfuse-halving-bench}
min_epochs=${3:-1}
reduction_factor=${4:-3}
hyperfuse=${HYPERFUSE:-$here/build/hyperfuse}
validation=${VALIDATION:-0.2}
threads=${THREADS:-0}
[ -f "$dat" ] || { echo "no D.AT file at $dat; give its path as the first argument" >&2; exit 2; }
mkdir -p "$scratch"

# The split in row order: 80% to train and validate, 20% to test.
rows=$(grep -c . "$dat")
train_rows=$(( rows * 8 / 10 ))
head -n "$train_rows" "$dat" > "$scratch/train80.csv"
tail -n +"$(( train_rows + 1 ))" "$dat" > "$scratch/test20.csv"

# seed.toml's [search] and [hyperparameters], with this data and a validation set.
write_config() {  # name, extra [search] lines
  {
    printf '[data]\ntrain = "%s"\ntest = "%s"\nvalidation = %s\n\n' "$scratch/train80.csv" "$scratch/test20.csv" "$validation"
    printf '[search]\nrerun_count = 3\nseed = 42\nprediction_threshold = 0.5\n%b\n' "$2"
    printf '[execution]\ndevice = "cpu"\ncpu_count = %s\n\n[output]\ndir = "%s"\nkeep_models = 0\n\n' "$threads" "$scratch/$1"
    sed -n '/^\[hyperparameters\]/,$p' "$here/configs/seed.toml"
  } > "$scratch/$1.toml"
}
write_config grid 'strategy = "grid"'
write_config halving "strategy = \"halving\"\nmin_epochs = $min_epochs\nreduction_factor = $reduction_factor"

run() {  # name: runs it fresh, keeps /usr/bin/time's figures in NAME.time
  /usr/bin/time -f '%e %U %S' -o "$scratch/$1.time" "$hyperfuse" run "$scratch/$1.toml" --fresh --quiet > "$scratch/$1.log" 2>&1
}
if [ "${REPORT_ONLY:-0}" != 1 ]; then
  if [ "${SKIP_GRID:-0}" != 1 ] || [ ! -f "$scratch/grid.time" ]; then run grid; fi
  run halving
fi

/usr/bin/python3 - "$scratch" <<'PY'
import csv, json, sys
scratch = sys.argv[1]
keys = ["learning_rate", "max_epochs", "batch_size", "hidden_layers", "loss_function", "activation_function",
        "optimizer", "dropout", "l1_regularization", "l2_regularization", "weight_initialization"]
def rows(name):
    with open(f"{scratch}/{name}/hyperparameter_results.csv", newline="") as f:
        return list(csv.DictReader(f))
def times(name):
    wall, user, system = (float(x) for x in open(f"{scratch}/{name}.time").read().split())
    return wall, user + system
grid, halving = rows("grid"), rows("halving")
rank = {tuple(r[k] for k in keys): i + 1 for i, r in enumerate(grid)}
winner = halving[0]
winner_rank = rank[tuple(winner[k] for k in keys)]
(grid_wall, grid_cpu), (halving_wall, halving_cpu) = times("grid"), times("halving")
epochs = {}
for r in halving:
    epochs[r["epochs_trained"]] = epochs.get(r["epochs_trained"], 0) + 1
last_rung = max(int(r["epochs_trained"]) for r in halving)
halving_of = {tuple(r[k] for k in keys): r for r in halving}
top_share = max(1, len(grid) // 20)  # the grid's top 5%
top_reached_last = sum(1 for r in grid[:top_share] if int(halving_of[tuple(r[k] for k in keys)]["epochs_trained"]) == last_rung)
# A candidate that reaches the last rung was trained exactly as the grid trains it.
finalists = [r for r in halving if int(r["epochs_trained"]) == last_rung]
same_as_grid = sum(1 for r in finalists if grid[rank[tuple(r[k] for k in keys)] - 1]["log10_p_value"] == r["log10_p_value"])
figures = {
    "combinations": len(grid),
    "grid_wall_s": grid_wall, "grid_cpu_s": grid_cpu,
    "halving_wall_s": halving_wall, "halving_cpu_s": halving_cpu,
    "halving_share_of_grid_wall": halving_wall / grid_wall, "halving_share_of_grid_cpu": halving_cpu / grid_cpu,
    "halving_winner_grid_rank": winner_rank, "halving_winner_grid_percentile": 100.0 * winner_rank / len(grid),
    "grid_winner_val_log10_p": float(grid[0]["log10_p_value"]),
    "grid_winner_test_log10_p": float(grid[0]["test_log10_p_value"]),
    "halving_winner_val_log10_p": float(winner["log10_p_value"]),
    "halving_winner_test_log10_p": float(winner["test_log10_p_value"]),
    "halving_candidates_by_epochs_trained": epochs,
    "grid_top_5_percent": top_share, "grid_top_5_percent_reaching_the_last_rung": top_reached_last,
    "halving_top_10_grid_ranks": [rank[tuple(r[k] for k in keys)] for r in halving[:10]],
    "finalists": len(finalists), "finalists_with_the_grids_p_value": same_as_grid,
}
print(f"grid:    {grid_wall:8.1f} s wall, {grid_cpu:8.1f} s CPU; winner: validation log10 p {figures['grid_winner_val_log10_p']:.3f}, test log10 p {figures['grid_winner_test_log10_p']:.3f}")
print(f"halving: {halving_wall:8.1f} s wall, {halving_cpu:8.1f} s CPU ({100 * halving_wall / grid_wall:.1f}% / {100 * halving_cpu / grid_cpu:.1f}% of the grid's); winner: validation log10 p {figures['halving_winner_val_log10_p']:.3f}, test log10 p {figures['halving_winner_test_log10_p']:.3f}")
print(f"halving's winner is the grid's number {winner_rank} of {len(grid)} (top {figures['halving_winner_grid_percentile']:.2f}%)")
print(f"candidates by the epochs they reached: {epochs}")
print(f"the grid's top {top_share} (5%): {top_reached_last} reached the last rung; halving's top 10 are the grid's {figures['halving_top_10_grid_ranks']}")
print(f"{same_as_grid} of the {len(finalists)} candidates of the last rung have the grid's p-value exactly")
with open(f"{scratch}/halving_vs_grid.json", "w") as f:
    json.dump(figures, f, indent=1)
PY
