"""read_seed_config: every shape of the seed's config.py, read without running it, and the
refusals that name the line and the accepted spellings."""
import os
import re

import pytest

import hyperfuse
from hyperfuse import seed_config as reader
from conftest import REPOSITORY


def test_enum_members_map_to_hyperfuse_names(seed_config):
    arguments = hyperfuse.read_seed_config(seed_config("enum_members"))
    assert arguments["explore_all_combinations"] is True
    assert arguments["number_of_combinations_to_try"] == 100
    assert arguments["rerun_count"] == 2
    assert arguments["cpu_count"] == 0  # cpu_count(): every core
    values = arguments["hyperparameter_values"]
    assert list(values) == ["learning_rate", "max_epochs", "batch_size", "hidden_layers", "loss_function",
                            "activation_function", "optimizer", "dropout", "l1_regularization",
                            "l2_regularization", "weight_initialization"]
    assert values["learning_rate"] == [0.001, 0.0005]
    assert values["hidden_layers"] == [[2, 3, 2, 1, 0.5]]
    assert values["loss_function"] == ["BCE", "SmoothL1"]  # the commented-out line is not read
    assert values["activation_function"] == ["LeakyReLU"]
    assert values["optimizer"] == ["Adam"]
    assert values["weight_initialization"] == ["xavier_uniform"]


def test_pytorch_classes_and_strings(seed_config):
    values = hyperfuse.read_seed_config(seed_config("pytorch_classes"))["hyperparameter_values"]
    assert values["loss_function"] == ["BCE"]
    assert values["activation_function"] == ["ReLU", "LeakyReLU"]
    assert values["optimizer"] == ["RMSprop", "Adam"]
    assert values["weight_initialization"] == ["xavier_uniform"]


def test_string_keys_and_random_search(seed_config):
    arguments = hyperfuse.read_seed_config(seed_config("string_keys"))
    assert arguments["explore_all_combinations"] is False
    assert arguments["number_of_combinations_to_try"] == 4
    assert arguments["cpu_count"] == 0
    assert arguments["hyperparameter_values"]["max_epochs"] == [2]
    assert arguments["hyperparameter_values"]["activation_function"] == ["Tanh", "LeakyReLU"]


def test_the_file_is_never_run(seed_config, tmp_path):
    marker = tmp_path / "ran"
    text = f"open({str(marker)!r}, 'w').write('x')\nimport no_such_module\n" + \
        "hyperparameter_values = {'learning_rate': [0.01]}\n"
    assert hyperfuse.read_seed_config(seed_config("side_effects", text)) == {
        "hyperparameter_values": {"learning_rate": [0.01]}}
    assert not marker.exists()


@pytest.mark.parametrize("line, expected", [
    ("    Hyper.LEARNING_RATES: [0.01],", r":3:5: unknown hyperparameter 'LEARNING_RATES'; accepted keys: .*"
                                        r"Hyper\.LEARNING_RATE or 'learning_rate'"),
    ("    Hyper.ACTIVATION_FUNCTION: [Af.LEAKY_RELUU],", r":3:33: activation_function: unknown value "
                                                      r"Af\.LEAKY_RELUU; accepted: ELU, .*LeakyReLU"),
    ("    Hyper.OPTIMIZER: [Opti.NADAM],", r":3:23: optimizer: unknown value Opti\.NADAM; accepted: SGD, Adam"),
    ("    Hyper.DROPOUT: 0.2,", r":3:20: dropout: the value must be a list of the values to try, such as \[0\.2\]"),
    ("    Hyper.HIDDEN_LAYERS: [2, 1],", r":3:27: hidden_layers: each value is a list of layer widths"),
])
def test_unknown_names_name_the_line_and_the_spellings(seed_config, line, expected):
    path = seed_config("bad", "# a seed config\nhyperparameter_values = {\n" + line + "\n}\n")
    with pytest.raises(hyperfuse.ConfigError) as error:
        hyperfuse.read_seed_config(path)
    assert re.search(re.escape(path) + expected, str(error.value)), str(error.value)
    assert error.value.file == path and error.value.line == 3


def test_a_setting_that_is_not_a_literal_is_refused(seed_config):
    path = seed_config("bad_setting", "RERUN_COUNT = compute()\nhyperparameter_values = {}\n")
    with pytest.raises(hyperfuse.ConfigError, match=r":1:15: RERUN_COUNT must be a whole number, not compute\(\)"):
        hyperfuse.read_seed_config(path)


def test_names_equal_the_core_s():
    """The converter's canonical names are kernels/math/codes.hpp's, in the same order."""
    with open(os.path.join(REPOSITORY, "kernels", "math", "codes.hpp")) as file:
        header = file.read()
    for array, names in (("kLossNames", reader.LOSS_NAMES), ("kActivationNames", reader.ACTIVATION_NAMES),
                         ("kOptimizerNames", reader.OPTIMIZER_NAMES),
                         ("kWeightInitNames", reader.WEIGHT_INIT_NAMES)):
        listed = re.search(array + r"\[[^\]]*\] = \{([^}]*)\}", header).group(1)
        assert tuple(re.findall(r'"([^"]+)"', listed)) == names, array


def test_the_seed_s_own_objects_as_search_takes_them(seed_config):
    """search(hyperparameter_values=...) with the seed's enums and PyTorch-like classes themselves
    gives the table read_seed_config reads from the same dictionary written in config.py."""
    import enum
    from hyperfuse.search import hyperparameter_table

    Hyper = enum.Enum("Hyper", "LEARNING_RATE EPOCHS BATCH_SIZE HIDDEN_LAYERS LOSS_FUNCTION ACTIVATION_FUNCTION "
                               "OPTIMIZER DROPOUT L1_REGULARIZATION L2_REGULARIZATION WEIGHT_INITIALIZATION")
    Lf = enum.Enum("Lf", "BCE SMOOTH_L1")
    Opti = enum.Enum("Opti", "ADAM RMSPROP")
    Wi = enum.Enum("Wi", "XAVIER_UNIFORM")
    LeakyReLU = type("LeakyReLU", (), {})  # as nn.LeakyReLU: a class, named by __name__
    table = hyperparameter_table({
        Hyper.LEARNING_RATE: [0.001, 0.0005], Hyper.EPOCHS: [2], Hyper.BATCH_SIZE: [64],
        Hyper.HIDDEN_LAYERS: [(2, 3, 2, 1, 0.5)], Hyper.LOSS_FUNCTION: [Lf.BCE, Lf.SMOOTH_L1],
        Hyper.ACTIVATION_FUNCTION: [LeakyReLU], Hyper.OPTIMIZER: [Opti.ADAM], Hyper.DROPOUT: [0.0],
        Hyper.L1_REGULARIZATION: [0.0], Hyper.L2_REGULARIZATION: [0.0], Hyper.WEIGHT_INITIALIZATION: [Wi.XAVIER_UNIFORM],
    })
    assert table == hyperfuse.read_seed_config(seed_config("enum_members"))["hyperparameter_values"]
    Other = enum.Enum("Other", "NADAM")
    with pytest.raises(ValueError, match=r"hyperparameter_values\['optimizer'\]: unknown value <Other.NADAM: 1>; "
                                         r"accepted: SGD, Adam, AdamW, RMSprop"):
        hyperparameter_table({Hyper.OPTIMIZER: [Opti.RMSPROP, Other.NADAM]})
