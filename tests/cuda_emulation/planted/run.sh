#!/usr/bin/env bash
# Plants each bug of planted/*.patch, one at a time, in a scratch worktree of the committed HEAD
# (never in this tree), builds the emulated tests there, runs the GPU tests and prints a table: was
# the bug reported by the emulation (its first message, which names file and line), reported by a
# direct check (the fused plan's property test or the numbering test: the buffer or element, with
# the test's file and line), caught only by a comparison with the CPU trainer (the failing tests),
# or missed. On demand, not in CI: about two minutes per
# bug on two cores once the first build is done (ccache makes that one quick after a build-emu).
#
# Usage: tests/cuda_emulation/planted/run.sh [PATCH_NAME...]   (default: every planted/*.patch)
# Environment: HF_PLANTED_WORKTREE  the scratch worktree (default: <this repository>-planted beside
#                                   it, so the compiler cache's base directory still applies)
#              HF_PLANTED_TESTS     the ctest regex of the tests to run (default: the GPU tests and
#                                   the fused plan's, without the emulation's own tests)
#              HF_PLANTED_JOBS      ctest and build parallelism (default 2)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
worktree=${HF_PLANTED_WORKTREE:-$repo-planted}
tests=${HF_PLANTED_TESTS:-Cuda|cuda|Gpu|GPU|Fused}
jobs=${HF_PLANTED_JOBS:-2}
# The emulation's own tests provoke its reports on purpose: not a verdict on a planted bug.
excluded='^(CudaEmulation|StreamOrdering)\.'
logs=$(mktemp -d)
# The tests' scratch directories live under the temporary directory: one of its own, so another
# test run on the machine (other checkouts) cannot collide with this one.
export TMPDIR="$logs/tmp"
mkdir -p "$TMPDIR"

if [[ $# -gt 0 ]]; then
  patches=()
  for name in "$@"; do patches+=("$here/${name%.patch}.patch"); done
else
  patches=("$here"/*.patch)
fi
for p in "${patches[@]}"; do
  [[ -f $p ]] || { echo "run.sh: no planted bug $p (see $here/*.patch)" >&2; exit 2; }
done

if [[ ! -d $worktree ]]; then
  git -C "$repo" worktree add --detach "$worktree" HEAD >/dev/null
else
  git -C "$worktree" checkout --detach --force "$(git -C "$repo" rev-parse HEAD)" >/dev/null 2>&1
fi
build="$worktree/build-emu"
export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
cmake -S "$worktree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHYPERFUSE_CUDA=EMULATE >/dev/null

# Builds and runs the tests in the worktree as it is; prints "verdict<TAB>detail", the verdict
# $2 when every test passes.
run_tests() {
  local log=$1
  if ! cmake --build "$build" --target hyperfuse_tests hyperfuse -j"$jobs" >"$log.build" 2>&1; then
    printf 'did not build\t%s\n' "$(grep -m1 'error' "$log.build" | cut -c1-200)"
    return
  fi
  (cd "$build" && HYPERFUSE_REQUIRE_GPU=1 ctest -R "$tests" -E "$excluded" -j"$jobs" --timeout 300 \
    --output-on-failure >"$log" 2>&1) || true
  local failed message
  failed=$(grep -E '^\s+[0-9]+ - ' "$log" | sed -E 's/^\s+[0-9]+ - //; s/ \(.*//' | head -3 | paste -sd, -)
  # Only failed tests' output is in the log (--output-on-failure).
  message=$(grep -m1 -o 'hyperfuse CUDA emulation: .*' "$log" | sed 's/^hyperfuse CUDA emulation: //' | cut -c1-600 || true)
  # The direct checks (the fused plan's properties, the fused kernel's numbering against the CPU's):
  # their first failure, as file:line and the message naming the buffer or element.
  local direct
  direct=$(awk '/(fused_plan_property_test|fused_numbering_test)\.cpp:[0-9]+: Failure/ { where = $1; block = 1; next }
                block && /^Google Test trace:/ { trace = 1; next }
                block && trace { sub(/^[^ ]*: /, ""); print where " " message " (" $0 ")"; exit }
                block && (/^\[/ || /^$/) { print where " " message; exit }
                block && message == "" && /^( |Expected|Value of|Actual|Which is)/ { next }
                block { message = message == "" ? $0 : message " " $0 }' "$log")
  if [[ -n $message ]]; then
    printf 'reported by the emulation\t%s\n' "$message"
  elif [[ -n $direct ]]; then
    printf 'reported by a direct check (test)\t%s\n' "$(echo "$direct" | sed 's|^\.\./||' | cut -c1-300)"
  elif [[ -n $failed ]]; then
    local first
    first=$(grep -m1 -E '^\.\./.*: Failure$|Failure$' "$log" | head -1)
    printf 'caught only by a comparison\t%s\n' "$failed${first:+ ($first)}"
  else
    printf '%s\t%s\n' "$2" "$(grep -m1 'tests passed' "$log")"
  fi
}

rows=()
echo "baseline (nothing planted) ..." >&2
rows+=("(none: HEAD as committed)|$(run_tests "$logs/baseline" 'clean: nothing reported' | tr '\t' '|')")
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  echo "$name ..." >&2
  git -C "$worktree" checkout --force -- . >/dev/null
  if ! git -C "$worktree" apply "$p" 2>"$logs/$name.apply"; then
    rows+=("$name|did not apply|$(head -1 "$logs/$name.apply")")
    continue
  fi
  rows+=("$name|$(run_tests "$logs/$name" missed | tr '\t' '|')")
  git -C "$worktree" checkout --force -- . >/dev/null
done

echo
echo "| planted | outcome | first report, or the tests that failed |"
echo "|---|---|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r name verdict detail <<<"$row"
  echo "| $name | $verdict | ${detail//|/\\|} |"
done
echo
echo "Logs: $logs (the patches: $here; the worktree: $worktree)"
