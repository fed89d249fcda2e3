"""Bad input from Python: values of the wrong kind are ValueErrors naming the key or row; what
the core refuses is a ConfigError or DataError with the CLI's message and its place."""
import numpy as np
import pytest

import hyperfuse

TINY = {"learning_rate": [0.001], "epochs": [1]}


def _search(tmp_path, **arguments):
    arguments.setdefault("hyperparameter_values", TINY)
    return hyperfuse.search(output_dir=tmp_path / "out", progress=False, **arguments)


def test_a_dictionary_value_that_is_not_a_list(tmp_path, data):
    with pytest.raises(ValueError, match=r"hyperparameter_values\['learning_rate'\]: the value must be a list"):
        _search(tmp_path, train=data["train"], test=data["test"], hyperparameter_values={"learning_rate": 0.001})


def test_an_unknown_key_or_name(tmp_path, data):
    with pytest.raises(ValueError, match=r"unknown key 'learning_rates'; accepted: learning_rate, max_epochs"):
        _search(tmp_path, train=data["train"], test=data["test"], hyperparameter_values={"learning_rates": [0.1]})
    with pytest.raises(ValueError, match=r"hyperparameter_values\['optimizer'\]: unknown value 'Nadam'; accepted: "):
        _search(tmp_path, train=data["train"], test=data["test"], hyperparameter_values={"optimizer": ["Nadam"]})


def test_x_of_the_wrong_shape(tmp_path, data):
    y = data["train"].iloc[:, -1].to_numpy()
    with pytest.raises(ValueError, match=r"train: X must be 2-D, rows x features, not of shape \(2000,\)"):
        _search(tmp_path, train=(y.astype(float), y), test=data["test"])
    x = data["train"].iloc[:, :-1].to_numpy()
    with pytest.raises(ValueError, match=r"train: X has 2000 rows but y has 1999 labels"):
        _search(tmp_path, train=(x, y[1:]), test=data["test"])


def test_nan_in_x_names_the_row(tmp_path, data):
    train = data["train"].copy()
    train.iloc[41, 3] = np.nan
    with pytest.raises(ValueError, match=r"train: row 42, feature 4 is nan; every feature must be a finite number"):
        _search(tmp_path, train=train, test=data["test"])


def test_y_not_0_or_1_names_the_row(tmp_path, data):
    x = data["test"].iloc[:, :-1].to_numpy()
    y = data["test"].iloc[:, -1].to_numpy().copy()
    y[6] = 2
    with pytest.raises(ValueError, match=r"test: row 7 has the label 2.0; y must be 0 or 1"):
        _search(tmp_path, train=data["train"], test=(x, y))


def test_an_unknown_setting(tmp_path, data):
    with pytest.raises(TypeError, match=r"unknown setting permutation=; the settings it takes .*permutations"):
        _search(tmp_path, train=data["train"], test=data["test"], permutation=0)


def test_a_config_error_carries_the_file_line_and_key(tmp_path, data):
    config = tmp_path / "bad.toml"
    config.write_text(f'[data]\ntrain = "{data["paths"]["train"]}"\ntest = "{data["paths"]["test"]}"\n'
                      '[hyperparameters]\nactivation_function = ["ReLU", "Relu7"]\n')
    with pytest.raises(hyperfuse.ConfigError) as error:
        hyperfuse.search(config, output_dir=tmp_path / "out", progress=False)
    assert error.value.file == str(tmp_path / "out" / "search.toml")
    assert error.value.key == "activation_function" and error.value.table == "hyperparameters"
    assert error.value.line is not None
    assert "Relu7" in str(error.value)
    # From the CLI, the same message for the same file (hyperfuse run of search.toml).
    from conftest import run_cli
    cli = run_cli("run", tmp_path / "out" / "search.toml", check=False)
    assert cli.returncode == 2 and str(error.value) in cli.stderr


def test_a_data_error_carries_the_file_and_line(tmp_path, data):
    bad = tmp_path / "ragged.csv"
    lines = open(data["paths"]["test"]).read().splitlines()
    lines[9] = lines[9].rsplit(",", 2)[0]
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(hyperfuse.DataError) as error:
        _search(tmp_path, train=data["paths"]["train"], test=str(bad))
    assert error.value.file == str(bad) and error.value.line == 10
