#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs each for a bounded
# time from the committed seed corpus: scripts/run_fuzzers.sh [SECONDS_PER_TARGET] (default 60).
# New inputs go to a scratch copy of the corpus, never into the repository; a crash, hang,
# out-of-memory or sanitizer report saves the input to build-fuzz/findings/ and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

source scripts/install_packages.sh
install_packages "${HYPERFUSE_PACKAGES[@]}" clang libclang-rt-14-dev

cmake -S . -B build-fuzz -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DHYPERFUSE_FUZZ=ON -DHYPERFUSE_TESTS=OFF -DHYPERFUSE_BENCH=OFF -DHYPERFUSE_CUDA=OFF -DHYPERFUSE_MPI=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target config_loader_fuzzer labelled_csv_fuzzer

findings="$PWD/build-fuzz/findings"
mkdir -p "$findings"
status=0
for target in config:config_loader_fuzzer csv:labelled_csv_fuzzer; do
  corpus_name="${target%%:*}"
  fuzzer="${target#*:}"
  scratch="$(mktemp -d)"
  cp fuzz/corpus/"$corpus_name"/* "$scratch"/
  echo "hyperfuse: fuzzing $fuzzer for ${seconds} s" >&2
  # -timeout: one input running 5 s is a hang; -rss_limit_mb: more than 2 GiB is a finding.
  if ! (cd "$findings" && ASAN_OPTIONS=detect_leaks=1 "$OLDPWD/build-fuzz/fuzz/$fuzzer" \
          -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
          -artifact_prefix="$findings/$fuzzer-" "$scratch" 2>"$findings/$fuzzer.log"); then
    echo "hyperfuse: $fuzzer found a problem; input saved as $findings/$fuzzer-*, log in $findings/$fuzzer.log" >&2
    tail -40 "$findings/$fuzzer.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+ +DONE" "$findings/$fuzzer.log" >&2 || true
  fi
  rm -rf "$scratch"
done
exit "$status"
