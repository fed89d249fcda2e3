#!/usr/bin/env bash
# Everything a GPU machine should check, in one run of about 9 minutes: the CUDA tests (op suite,
# pack-level and fused-path comparisons with the CPU trainer), the rest of the test suite,
# compute-sanitizer's memcheck and racecheck over the fused and op tests, and the GPU benchmark
# (the seed's full grid, 1,024 combinations x 3 reruns, 8 epochs, on 100,000 generated training
# rows and 25,000 test rows, with HYPERFUSE_REQUIRE_GPU=1) beside the performance model's
# prediction (bench/fused_model.cpp), CPU mode on the same machine and the PyTorch baselines on
# the same GPU. Logs and one summary.json go to $OUT (or build-device/out).
#
# Runs binaries built elsewhere by bench/build_for_device.sh into build-device/ (carried to
# the device); see bench/README.md for the exact command.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${OUT:-$root/build-device/out}
mkdir -p "$out"
bin=$root/build-device/bin
data=$root/build-device/data
export LD_LIBRARY_PATH="$root/build-device/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
if ! ldd "$bin/hyperfuse" | grep -q 'libcublas.so.* => /'; then
  # No toolkit cuBLAS: try the one pip installs beside PyTorch.
  pip_cublas=$(python3 -c 'import nvidia.cublas as c, os; print(os.path.join(list(c.__path__)[0], "lib"))' 2>/dev/null)
  [ -n "$pip_cublas" ] && export LD_LIBRARY_PATH="$pip_cublas:$LD_LIBRARY_PATH"
fi
export HYPERFUSE_TEST_SOURCE_DIR=$root HYPERFUSE_TEST_BINARY=$bin/hyperfuse
# A GPU test that finds no usable GPU fails here instead of skipping (tests/gpu_available.hpp).
export HYPERFUSE_REQUIRE_GPU=1

step() { echo "== $(date +%T) $*"; }
status() { if [ "$1" -eq 0 ]; then echo ok; elif [ "$1" -eq 124 ]; then echo timeout; else echo "failed ($1)"; fi; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv | tee "$out/gpu.txt"
ldd "$bin/hyperfuse_tests" >"$out/ldd.txt" 2>&1
grep "not found" "$out/ldd.txt" && echo "missing shared libraries (see ldd.txt)"

step "CUDA tests"
timeout 90 "$bin/hyperfuse_tests" --gtest_filter='*cuda*:CudaPack*:DeviceChoice*:Cli.Cuda*:FusedPath*:FusedPlan*:GpuSearch*' \
  --gtest_output="json:$out/gpu_tests.json" >"$out/gpu_tests.log" 2>&1
gpu_tests=$?
tail -n 25 "$out/gpu_tests.log"

step "the rest of the test suite"
timeout 60 "$bin/hyperfuse_tests" --gtest_filter='-*cuda*:CudaPack*:DeviceChoice*:Cli.Cuda*:FusedPath*:FusedPlan*:GpuSearch*' \
  --gtest_output="json:$out/other_tests.json" >"$out/other_tests.log" 2>&1
other_tests=$?
tail -n 5 "$out/other_tests.log"

# compute-sanitizer over the small fused-path tests and the op tests (each runs 10-100x slower
# under it): out-of-bounds and misaligned accesses, then shared-memory races in the fused kernels.
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
step "compute-sanitizer memcheck"
timeout 45 "$sanitizer" --tool memcheck --error-exitcode 1 "$bin/hyperfuse_tests" \
  --gtest_filter='FusedPath.Every*:FusedPath.TrainingState*:*/cuda' >"$out/memcheck.log" 2>&1
memcheck=$?
tail -n 5 "$out/memcheck.log"
step "compute-sanitizer racecheck"
timeout 45 "$sanitizer" --tool racecheck --racecheck-report hazard --error-exitcode 1 "$bin/hyperfuse_tests" \
  --gtest_filter='FusedPath.Every*' >"$out/racecheck.log" 2>&1
racecheck=$?
tail -n 5 "$out/racecheck.log"

step "data: 100,000 training rows, 25,000 test rows"
"$bin/hyperfuse" make-data --out-dir "$data" --train-rows 100000 --test-rows 25000 --seed 7 >"$out/make_data.log" 2>&1
on_data=(--train "$data/train.csv" --test "$data/test.csv" --json)

step "GPU mode: configs/seed.toml, full grid"
timeout 150 "$bin/hyperfuse_bench" configs/seed.toml --device cuda "${on_data[@]}" >"$out/bench_gpu.json" \
  2>"$out/bench_gpu.log"
gpu_bench=$?
cat "$out/bench_gpu.json" "$out/bench_gpu.log"

step "the performance model beside the measured time"
measured=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["seconds"])' \
  "$out/bench_gpu.json" 2>/dev/null || echo 0)
"$bin/fused_model" configs/seed.toml --train-rows 100000 --test-rows 25000 --measured "$measured" >"$out/model.log" 2>&1
tail -n 1 "$out/model.log" >"$out/model.json"
cat "$out/model.log"

step "CPU mode on the same machine: 128 combinations of the same grid, every core"
timeout 40 "$bin/hyperfuse_bench" configs/seed.toml --device cpu --combinations 128 "${on_data[@]}" \
  >"$out/bench_cpu.json" 2>"$out/bench_cpu.log"
cpu_bench=$?
cat "$out/bench_cpu.json" "$out/bench_cpu.log"

step "PyTorch on the GPU: trial by trial (1 epoch timed, scaled to 8)"
timeout 30 python3 bench/pytorch_gpu_baseline.py --mode trial --trainings 1 --epochs 1 --train "$data/train.csv" \
  --test "$data/test.csv" >"$out/pytorch_trial.json" 2>"$out/pytorch_trial.log"
torch_trial=$?
cat "$out/pytorch_trial.json"

step "PyTorch on the GPU: one pack of 768 networks as a torch.func vmap ensemble"
timeout 45 python3 bench/pytorch_gpu_baseline.py --mode vmap --networks 768 --epochs 1 --train "$data/train.csv" \
  --test "$data/test.csv" >"$out/pytorch_vmap.json" 2>"$out/pytorch_vmap.log"
torch_vmap=$?
cat "$out/pytorch_vmap.json"

step "summary"
python3 - "$out" "$(status $gpu_tests)" "$(status $other_tests)" "$(status $gpu_bench)" "$(status $cpu_bench)" \
  "$(status $torch_trial)" "$(status $torch_vmap)" "$(status $memcheck)" "$(status $racecheck)" <<'PY'
import json, os, sys
out = sys.argv[1]
names = ["gpu_tests", "other_tests", "bench_gpu", "bench_cpu", "pytorch_trial", "pytorch_vmap", "memcheck", "racecheck"]
summary = {"status": dict(zip(names, sys.argv[2:]))}
def read(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception as e:  # a failed step leaves no JSON
        return {"error": str(e)}
for name in ["bench_gpu", "bench_cpu", "pytorch_trial", "pytorch_vmap"]:
    summary[name] = read(name + ".json")
summary["model"] = read("model.json")
# The issue's ratios: the seed grid's trainings/s on the GPU against PyTorch's on the same GPU.
gpu_rate = summary["bench_gpu"].get("trainings_per_second")
for name in ["pytorch_trial", "pytorch_vmap", "bench_cpu"]:
    rate = summary[name].get("trainings_per_second")
    if gpu_rate and rate:
        summary["gpu_over_" + name] = gpu_rate / rate
for name in ["gpu_tests", "other_tests"]:
    t = read(name + ".json")
    summary[name + "_counts"] = {k: t.get(k) for k in ("tests", "failures", "disabled", "errors")}
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)
print(f"{'step':<16}{'status':<12}{'trainings/s':>14}{'GFLOP/s':>12}{'of peak':>10}")
for name in names:
    r = summary.get(name, {})
    share = r.get("share_of_peak", r.get("share_of_fp32_peak"))
    tps, gflops = r.get("trainings_per_second"), r.get("gflops")
    tps_text = "" if tps is None else "%.2f" % tps
    gflops_text = "" if gflops is None else "%.1f" % gflops
    share_text = "" if share is None else "%.2f%%" % (100 * share)
    print(f"{name:<16}{summary['status'][name]:<12}{tps_text:>14}{gflops_text:>12}{share_text:>10}")
model = summary["model"]
if "predicted_seconds" in model:
    print(f"seed grid: predicted {model['predicted_seconds']:.2f} s, measured {summary['bench_gpu'].get('seconds', 'none')} s")
for key in sorted(k for k in summary if k.startswith("gpu_over_")):
    print(f"{key}: {summary[key]:.1f}x")
PY
