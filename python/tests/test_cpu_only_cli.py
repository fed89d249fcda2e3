"""The CLI of a build without the CUDA backend (the test venv's package is built with
HYPERFUSE_CUDA=OFF): `hyperfuse devices` and `hyperfuse benchmark` say plainly that there is no
GPU, and the benchmark still measures the CPU. The C++ suites run only CUDA and emulated builds,
so this is where CI sees a CPU-only build's commands."""
from conftest import run_cli


def test_devices_says_there_is_no_gpu():
    completed = run_cli("devices")
    assert "no GPU: this build of hyperfuse has no CUDA backend" in completed.stdout, completed.stdout


def test_devices_with_a_config_plans_nothing_on_a_gpu(data, tmp_path):
    config = tmp_path / "search.toml"
    config.write_text(f'[data]\ntrain = "{data["paths"]["train"]}"\ntest = "{data["paths"]["test"]}"\n')
    completed = run_cli("devices", config)
    assert "no GPU: this build of hyperfuse has no CUDA backend" in completed.stdout, completed.stdout


def test_benchmark_measures_the_cpu_and_says_there_is_no_gpu():
    completed = run_cli("benchmark", "--trainings", "2", "--train-rows", "400")
    lines = completed.stdout.splitlines()
    cpu = [line for line in lines if line.startswith("cpu")]
    assert len(cpu) == 1, completed.stdout
    assert "trainings/s" in completed.stdout, completed.stdout
    assert any("no GPU: this build has no CUDA backend" in line for line in lines), completed.stdout
