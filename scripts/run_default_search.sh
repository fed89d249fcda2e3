#!/usr/bin/env bash
# README command 1: build, then run the default search (configs/default.toml), which writes
# results/hyperparameter_results.csv. Extra arguments go to `hyperfuse run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
exec build/hyperfuse run configs/default.toml "$@"
