"""hyperfuse.search() and Study: the same results as the CLI whatever the entry point and the
data's form, results readable during a run, Ctrl-C then resume, and predict/export/report as
the CLI's commands."""
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import hyperfuse
from conftest import ENUM_MEMBERS, results_frame, run_cli, without_time


def test_python_search_equals_the_cli_on_the_converted_toml(tmp_path, data, reference_study):
    """The issue's 'done when': a seed config.py (enum members) through Python gives the rows
    `hyperfuse run` gives for the TOML `hyperfuse convert` writes of it."""
    (tmp_path / "config.py").write_text(ENUM_MEMBERS)
    run_cli("convert", tmp_path / "config.py", "--out", tmp_path / "config.toml", "--train", data["paths"]["train"],
            "--test", data["paths"]["test"], "--output-dir", "cli")
    run_cli("run", tmp_path / "config.toml", "-j", "2", "--quiet")
    cli = results_frame(tmp_path / "cli")
    python = reference_study.results()
    assert len(python) == 4
    pd.testing.assert_frame_equal(without_time(python), without_time(cli))
    pd.testing.assert_frame_equal(without_time(results_frame(reference_study.directory)), without_time(cli))


def test_results_from_the_journal_equal_the_results_file(reference_study):
    written = results_frame(reference_study.directory)
    pd.testing.assert_frame_equal(reference_study.results(), written)  # columns, dtypes, order, values
    assert reference_study.best(1)["log10_p_value"] == written["log10_p_value"].iloc[0]
    assert reference_study.best(2)["log10_p_value"] == written["log10_p_value"].iloc[1]
    with pytest.raises(ValueError, match="rank 5: the study ranks 4 combinations"):
        reference_study.best(5)
    pd.testing.assert_frame_equal(reference_study.errors(),
                                  pd.read_csv(os.path.join(reference_study.directory, "errors.csv")))
    assert reference_study.errors().empty


def test_a_failed_training_moves_its_combination_to_errors(tmp_path, reference_study):
    """A journal with one failed rerun (as a diverged training leaves it): errors() lists it as
    errors.csv would, results() leaves its combination out and ranks the others as before."""
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(reference_study.directory, copy)
    best = reference_study.results().iloc[0]
    message = "training diverged: the loss became NaN or infinite at epoch 1, step 3 of 32; try a lower learning rate"
    with sqlite3.connect(copy / "study.sqlite") as connection:
        combination, seed = connection.execute(
            "SELECT combination, seed FROM trainings WHERE learning_rate = ? AND loss_function = ? AND rerun = 2",
            (repr(float(best["learning_rate"])), best["loss_function"])).fetchone()
        connection.execute("UPDATE trainings SET status = 'failed', error = ?, tp = NULL, fp = NULL, fn = NULL, "
                           "tn = NULL, precision = NULL, p_value = NULL, log10_p_value = NULL "
                           "WHERE combination = ? AND rerun = 2", (message, combination))
    errors = hyperfuse.Study(copy).errors()
    assert len(errors) == 1
    assert errors.loc[0, "rerun"] == 2 and str(errors.loc[0, "seed"]) == seed and errors.loc[0, "error"] == message
    assert errors.loc[0, "learning_rate"] == best["learning_rate"]
    remaining = hyperfuse.Study(copy).results()
    expected = reference_study.results().iloc[1:].reset_index(drop=True)
    pd.testing.assert_frame_equal(remaining.drop(columns=["holm_p_value", "bh_p_value"]),
                                  expected.drop(columns=["holm_p_value", "bh_p_value"]))
    assert (remaining["holm_p_value"] <= expected["holm_p_value"]).all()  # one test fewer to adjust for


def test_dataframe_and_arrays_equal_csv_input(tmp_path, data, reference_study):
    arguments = dict(hyperfuse.read_seed_config(_write(tmp_path, ENUM_MEMBERS)), cpu_count=2, progress=False)
    from_frames = hyperfuse.search(train=data["train"], test=data["test"], output_dir=tmp_path / "frames", **arguments)
    x_train, y_train = data["train"].iloc[:, :-1].to_numpy(), data["train"].iloc[:, -1].to_numpy()
    x_test, y_test = data["test"].iloc[:, :-1].to_numpy(), data["test"].iloc[:, -1].to_numpy()
    from_arrays = hyperfuse.search(train=(x_train, y_train), test=(x_test, y_test), output_dir=tmp_path / "arrays",
                                   **arguments)
    expected = without_time(reference_study.results())
    pd.testing.assert_frame_equal(without_time(from_frames.results()), expected)
    pd.testing.assert_frame_equal(without_time(from_arrays.results()), expected)


def test_search_toml_reruns_the_search_through_the_cli(tmp_path, data):
    study = hyperfuse.search(train=data["train"], test=data["test"], output_dir=tmp_path / "study", progress=False,
                             rerun_count=1, cpu_count=2, permutations=0,
                             hyperparameter_values={"learning_rate": [0.001, 0.01], "epochs": [1]})
    first = study.results()
    run_cli("run", tmp_path / "study" / "search.toml", "--fresh", "--quiet")
    pd.testing.assert_frame_equal(without_time(results_frame(study.directory)), without_time(first))


def test_predict_equals_the_cli(tmp_path, data, reference_study):
    run_cli("predict", "--study", reference_study.directory, "--rank", "2", data["paths"]["test"], "--out",
            tmp_path / "buy.csv")
    cli = pd.read_csv(tmp_path / "buy.csv")
    pd.testing.assert_frame_equal(reference_study.predict(data["paths"]["test"], rank=2), cli)
    pd.testing.assert_frame_equal(reference_study.predict(data["test"], rank=2), cli)  # a DataFrame, label last
    features = data["test"].iloc[:, :-1].to_numpy()
    pd.testing.assert_frame_equal(reference_study.predict(features, rank=2), cli)
    # With tickers first: the buy list names them, as the CLI's does for latest.csv.
    tickers = data["test"].iloc[:, :-1].copy()
    tickers.insert(0, "ticker", [f"T{i}" for i in range(len(tickers))])
    named = reference_study.predict(tickers, rank=2)
    assert list(named.columns) == ["identifier", "probability", "buy"]
    assert named["identifier"].tolist() == [f"T{row - 1}" for row in cli["row"]]
    assert named["probability"].tolist() == cli["probability"].tolist()


def test_export_and_report(tmp_path, reference_study):
    path = reference_study.export_onnx(tmp_path / "best.onnx")
    assert os.path.getsize(path) > 1000
    run_cli("export", "--study", reference_study.directory, "--onnx", tmp_path / "cli.onnx")
    assert (tmp_path / "cli.onnx").read_bytes() == (tmp_path / "best.onnx").read_bytes()
    html = reference_study.report(tmp_path / "report.html")
    assert open(html).read().count('src="data:image/svg+xml;base64,') == 5  # gnuplot's plots, embedded


def _write(tmp_path, text, name="config.py"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# A search long enough to interrupt: 24 combinations x 2 reruns of 8 epochs on 1 thread.
LONG_SEARCH = """
import sys, hyperfuse
try:
    hyperfuse.search(train={train!r}, test={test!r}, output_dir={out!r}, cpu_count=1, rerun_count=2,
                     progress=False, permutations=0,
                     hyperparameter_values={{"learning_rate": [0.001, 0.0005, 0.002, 0.003, 0.004, 0.005],
                                             "epochs": [8], "batch_size": [16, 32], "dropout": [0.0, 0.1]}})
except KeyboardInterrupt:
    sys.exit(130)
"""


def _start_long_search(data, out):
    script = LONG_SEARCH.format(train=data["paths"]["train"], test=data["paths"]["test"], out=str(out))
    return subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True), script


def _finished_trainings(out):
    journal = os.path.join(out, "study.sqlite")
    if not os.path.exists(journal):
        return 0
    try:
        with sqlite3.connect(journal, timeout=5) as connection:
            return connection.execute("SELECT COUNT(*) FROM trainings").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is being created
        return 0


def _wait_for_trainings(process, out, at_least):
    deadline = time.monotonic() + 120
    while _finished_trainings(out) < at_least:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no trainings finished in 120 s"
        time.sleep(0.05)


def test_results_while_a_search_runs_then_ctrl_c_then_resume(tmp_path, data):
    out = tmp_path / "long"
    process, script = _start_long_search(data, out)
    try:
        _wait_for_trainings(process, out, 6)
        during = hyperfuse.Study(out).results()
        assert process.poll() is None, "the search ended before the test could read it during the run"
        assert 3 <= len(during) < 24  # only combinations whose reruns all finished
        assert during["log10_p_value"].is_monotonic_increasing
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "the same call resumes" in stderr
    done = _finished_trainings(out)
    assert 6 <= done < 48
    # The same call again resumes: only the missing trainings train.
    resumed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming the study in {out / 'study.sqlite'}: {done} of 48 trainings already done" in resumed.stderr
    # And the results are those of a search that never stopped.
    uninterrupted = tmp_path / "uninterrupted"
    subprocess.run([sys.executable, "-c", script.replace(str(out), str(uninterrupted))], check=True)
    pd.testing.assert_frame_equal(without_time(results_frame(out)), without_time(results_frame(uninterrupted)))
    pd.testing.assert_frame_equal(without_time(hyperfuse.Study(out).results()),
                                  without_time(results_frame(uninterrupted)))


def test_a_toml_config_with_overrides_and_a_dict_config(tmp_path, data):
    """A TOML path keeps its relative paths (against its folder) and takes the keyword
    arguments over its values; a dict of its tables gives the same search."""
    folder = tmp_path / "configs"
    folder.mkdir()
    os.symlink(data["folder"], tmp_path / "data")
    (folder / "small.toml").write_text(
        '[data]\ntrain = "../data/train.csv"\ntest = "../data/test.csv"\n'
        '[search]\nseed = 3\nrerun_count = 3\npermutations = 0\n'
        '[hyperparameters]\nlearning_rate = [0.001, 0.01]\nmax_epochs = [1]\n')
    from_file = hyperfuse.search(folder / "small.toml", rerun_count=1, output_dir=tmp_path / "file", progress=False)
    written = (tmp_path / "file" / "search.toml").read_text()
    assert "seed = 3" in written and "rerun_count = 1" in written
    assert list(from_file.results().columns).count("p_value_rerun_1") == 1
    assert "p_value_rerun_2" not in from_file.results().columns
    tables = {"data": {"train": data["paths"]["train"], "test": data["paths"]["test"]},
              "search": {"seed": 3, "rerun_count": 1, "permutations": 0},
              "hyperparameters": {"learning_rate": [0.001, 0.01], "max_epochs": [1]}}
    from_dict = hyperfuse.search(tables, output_dir=tmp_path / "dict", progress=False)
    pd.testing.assert_frame_equal(without_time(from_dict.results()), without_time(from_file.results()))


def test_results_with_validation_rows_equal_the_results_file(tmp_path, data):
    study = hyperfuse.search(train=data["train"], test=data["test"], validation=0.2, embargo_rows=5, rerun_count=2,
                             cpu_count=2, output_dir=tmp_path / "validated", progress=False,
                             hyperparameter_values={"learning_rate": [0.001, 0.01], "epochs": [1, 2]})
    results = study.results()
    assert {"val_log10_p_value", "test_log10_p_value", "test_tp"} <= set(results.columns)
    pd.testing.assert_frame_equal(results, results_frame(study.directory))
