"""`hyperfuse convert`: every seed config.py shape becomes a TOML that `hyperfuse run` accepts,
with the values read_seed_config reads; a bad config.py exits 2 with the located message."""
import sys

import pytest

import hyperfuse
from conftest import SHAPES, run_cli

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_converts_to_a_toml_hyperfuse_run_accepts(tmp_path, data, seed_config, shape):
    path = seed_config(shape)
    toml = tmp_path / f"{shape}.toml"
    converted = run_cli("convert", path, "--out", toml, "--train", data["paths"]["train"], "--test",
                        data["paths"]["test"], "--output-dir", "out")
    assert f"Wrote {toml}" in converted.stderr
    tables = tomllib.loads(toml.read_text())
    arguments = hyperfuse.read_seed_config(path)
    assert tables["hyperparameters"] == arguments["hyperparameter_values"]
    assert tables["search"]["rerun_count"] == arguments["rerun_count"]
    assert tables["execution"]["cpu_count"] == arguments["cpu_count"]
    plan = run_cli("run", toml, "--dry-run")
    combinations = 1
    for values in arguments["hyperparameter_values"].values():
        combinations *= len(values)
    if not arguments.get("explore_all_combinations", True):
        combinations = min(combinations, arguments["number_of_combinations_to_try"])
    reruns = arguments["rerun_count"]
    assert f"trainings              {combinations * reruns} ({combinations} x {reruns} reruns)" in plan.stdout, \
        plan.stdout


def test_standard_output_and_a_bad_config(tmp_path, seed_config):
    printed = run_cli("convert", seed_config("string_keys"))
    assert "[hyperparameters]\nlearning_rate = [0.001, 0.0005, 0.01]\nmax_epochs = [2]\n" in printed.stdout
    bad = seed_config("bad", "hyperparameter_values = {\n    'optimiser': ['Adam', 'Nadam'],\n}\n")
    refused = run_cli("convert", bad, "--out", tmp_path / "bad.toml", check=False)
    assert refused.returncode == 2
    assert f"hyperfuse: error: {bad}:2:27: optimizer: unknown value Nadam; accepted: SGD, Adam" in refused.stderr
    assert not (tmp_path / "bad.toml").exists()
