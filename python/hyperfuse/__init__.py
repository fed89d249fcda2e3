"""hyperfuse for Python: hyperparameter searches of small feed-forward classifiers on tabular
data, run by the same native core as the `hyperfuse` CLI (docs/PYTHON.md).

    import hyperfuse
    study = hyperfuse.search(train="train.csv", test="test.csv",
                             **hyperfuse.read_seed_config("config.py"))
    study.results()          # a DataFrame, best first
    study.predict("latest.csv")
"""
from .errors import ConfigError, DataError, HyperfuseInputError
from .search import search
from .seed_config import read_seed_config
from .study import Study

__all__ = ["search", "Study", "read_seed_config", "ConfigError", "DataError", "HyperfuseInputError"]
__version__ = "0.1.0"
