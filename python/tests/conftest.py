"""Shared fixtures: small data cut from example_data/, the seed's config.py shapes, the CLI of
the installed package (the same build as the library), and a helper that runs it."""
import os
import subprocess
import sys

import pandas as pd
import pytest

import hyperfuse
from hyperfuse.native import bundled_cli

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The seed's config.py in each shape its users hold (issue 23). Each trains 4 combinations x 2
# reruns of 2 epochs, a few seconds on 2 cores.
ENUM_MEMBERS = '''\
from multiprocessing import cpu_count
from nn_constants import Hyperparameters as Hyper, LossFunction as Lf, ActivationFunction as Af
from nn_constants import Optimizer as Opti, WeightInitialization as Wi

EXPLORE_ALL_COMBINATIONS = True
NUMBER_OF_COMBINATIONS_TO_TRY = 100  # only read by a random search
RERUN_COUNT = 2
CPU_COUNT = cpu_count()

hyperparameter_values = {
    Hyper.LEARNING_RATE: [0.001, 0.0005],
    Hyper.EPOCHS: [2],
    Hyper.BATCH_SIZE: [64],
    Hyper.HIDDEN_LAYERS: [[2, 3, 2, 1, 0.5]],
    Hyper.LOSS_FUNCTION: [Lf.BCE, Lf.SMOOTH_L1],
    # Hyper.LOSS_FUNCTION: [Lf.BCE, Lf.MSE, Lf.HUBER],
    Hyper.ACTIVATION_FUNCTION: [Af.LeakyReLU],
    Hyper.OPTIMIZER: [Opti.ADAM],  # Opti.RMSPROP was slower
    Hyper.DROPOUT: [0.0],
    Hyper.L1_REGULARIZATION: [0.0],
    Hyper.L2_REGULARIZATION: [0.0],
    Hyper.WEIGHT_INITIALIZATION: [Wi.XAVIER_UNIFORM],
}
'''

PYTORCH_CLASSES = '''\
import torch.nn as nn
from nn_constants import Hyperparameters as Hyper, Optimizer as Opti

RERUN_COUNT = 2
CPU_COUNT = 2

hyperparameter_values = {
    Hyper.LEARNING_RATE: [0.001],
    Hyper.EPOCHS: [2],
    Hyper.BATCH_SIZE: [64],
    Hyper.HIDDEN_LAYERS: [[2, 1, 0.5]],
    Hyper.LOSS_FUNCTION: [nn.BCELoss],
    Hyper.ACTIVATION_FUNCTION: [nn.ReLU, nn.LeakyReLU],
    Hyper.OPTIMIZER: ['RMSprop', Opti.ADAM],
    Hyper.WEIGHT_INITIALIZATION: [nn.init.xavier_uniform_],
}
'''

STRING_KEYS = '''\
import os
EXPLORE_ALL_COMBINATIONS = False
NUMBER_OF_COMBINATIONS_TO_TRY = 4
RERUN_COUNT = 2
CPU_COUNT = os.cpu_count()
hyperparameter_values = {
    'learning_rate': [0.001, 0.0005, 0.01],
    'epochs': [2],
    'batch_size': [32, 64],
    'hidden_layers': [[2, 1, 0.5]],
    'loss_function': ['BCE'],
    'activation_function': ['Tanh', 'leakyrelu'],
    'optimizer': ['Adam'],
    'dropout': [0.0, 0.2],
}
'''

SHAPES = {"enum_members": ENUM_MEMBERS, "pytorch_classes": PYTORCH_CLASSES, "string_keys": STRING_KEYS}


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """train.csv (2,000 rows) and test.csv (1,000 rows) cut from example_data/, with their frames."""
    folder = tmp_path_factory.mktemp("data")
    train = pd.read_csv(os.path.join(REPOSITORY, "example_data", "train.csv"), header=None, nrows=2000)
    test = pd.read_csv(os.path.join(REPOSITORY, "example_data", "test.csv"), header=None, nrows=1000)
    paths = {"train": str(folder / "train.csv"), "test": str(folder / "test.csv")}
    # The first rows of the files as they are, so a path and its DataFrame are the same data.
    for name, rows in (("train", 2000), ("test", 1000)):
        with open(os.path.join(REPOSITORY, "example_data", f"{name}.csv")) as source:
            lines = [next(source) for _ in range(rows)]
        with open(paths[name], "w") as out:
            out.writelines(lines)
    return {"paths": paths, "train": train, "test": test, "folder": folder}


@pytest.fixture
def seed_config(tmp_path):
    """Writes the named shape as tmp_path/config.py and returns its path."""
    def write(shape, text=None):
        path = tmp_path / f"{shape}_config.py"
        path.write_text(text if text is not None else SHAPES[shape])
        return str(path)
    return write


def run_cli(*args, check=True):
    """The installed package's `hyperfuse` with the converter run by this interpreter."""
    environment = dict(os.environ, HYPERFUSE_PYTHON=sys.executable)
    completed = subprocess.run([bundled_cli(), *map(str, args)], capture_output=True, text=True, env=environment)
    if check and completed.returncode != 0:
        raise AssertionError(f"hyperfuse {' '.join(map(str, args))} exited {completed.returncode}:\n"
                             f"{completed.stdout}\n{completed.stderr}")
    return completed


def results_frame(folder):
    return pd.read_csv(os.path.join(folder, "hyperparameter_results.csv"))


def without_time(frame):
    return frame.drop(columns=["execution_time"])


@pytest.fixture(scope="session")
def reference_study(tmp_path_factory, data):
    """One finished search of the enum-member config.py, for the tests that only read a study."""
    folder = tmp_path_factory.mktemp("reference")
    path = folder / "config.py"
    path.write_text(ENUM_MEMBERS)
    arguments = dict(hyperfuse.read_seed_config(str(path)), cpu_count=2)
    return hyperfuse.search(train=data["paths"]["train"], test=data["paths"]["test"], output_dir=folder / "study",
                            progress=False, **arguments)
