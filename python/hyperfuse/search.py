"""hyperfuse.search(): a search from Python, run by the native core in its own threads with
the GIL released. The arguments become one TOML config, written to the output folder as
search.toml (`hyperfuse run DIR/search.toml` reruns it, same results), and DataFrame or array
data becomes CSV files beside it (DIR/inputs/)."""
import ctypes
import os
import sys
import time

from . import data_inputs
from .errors import ConfigError, input_error_from_message
from .native import decoded, encoded, library
from .progress import progress_display
from .study import Study
from .toml_text import toml_text

CONFIG_FILE = "search.toml"

# The config keys search(**settings) takes, and their tables (docs/CONFIG.md).
SETTING_TABLES = {
    "embargo_rows": "data", "shuffle": "data",
    "strategy": "search", "prediction_threshold": "search", "permutations": "search",
    "permutation_block": "search", "min_epochs": "search", "reduction_factor": "search",
    "gpus": "execution", "keep_models": "output",
}


def _read_toml(path):
    try:
        import tomllib
    except ImportError:  # Python before 3.11
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config ({error.strerror})", file=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}", file=str(path)) from None


def _base_tables(config):
    """The config's tables (copies) with its relative paths made absolute, and the file it came from."""
    if config is None:
        return {}, None
    if isinstance(config, dict):
        tables = {table: dict(keys) if isinstance(keys, dict) else keys for table, keys in config.items()}
        return tables, None
    path = os.path.abspath(os.fspath(config))
    tables = _read_toml(path)
    folder = os.path.dirname(path)
    # The file's defaults and relative paths, as the core resolves them: against its folder.
    tables.setdefault("data", {}).setdefault("train", "../example_data/train.csv")
    tables["data"].setdefault("test", "../example_data/test.csv")
    tables.setdefault("output", {}).setdefault("dir", "../results")
    for table, key in (("data", "train"), ("data", "test"), ("data", "validation"), ("output", "dir")):
        value = tables.get(table, {}).get(key)
        if isinstance(value, str):
            tables[table][key] = os.path.normpath(os.path.join(folder, value))
    return tables, path


def hyperparameter_table(values):
    """The seed's hyperparameter_values dictionary (its key and value spellings, as
    read_seed_config() reads them) as the TOML's [hyperparameters] table."""
    from .seed_config import KEY_ALIASES, NAMES_OF_KEY, canonical_key, canonical_name
    if not isinstance(values, dict):
        raise ValueError(f"hyperparameter_values must be a dict {{key: [values]}}, not {type(values).__name__}")
    table = {}
    for spelled_key, listed in values.items():
        key_text = getattr(spelled_key, "name", spelled_key)  # an Enum member: Hyper.LEARNING_RATE
        key = canonical_key(str(key_text)) if isinstance(key_text, str) else None
        if key is None:
            raise ValueError(f"hyperparameter_values: unknown key {spelled_key!r}; accepted: " +
                             ", ".join(KEY_ALIASES))
        if isinstance(listed, dict):  # a range such as {"log_uniform": [1e-5, 1e-1]}
            table[key] = listed
            continue
        if not isinstance(listed, (list, tuple)):
            raise ValueError(f"hyperparameter_values[{key!r}]: the value must be a list of the values to try, such "
                             f"as [{listed!r}], not {type(listed).__name__}")
        converted = []
        for value in listed:
            if key in NAMES_OF_KEY:
                spelled = value if isinstance(value, str) else getattr(value, "__name__", getattr(value, "name", None))
                name = canonical_name(key, spelled) if isinstance(spelled, str) else None
                if name is None:
                    raise ValueError(f"hyperparameter_values[{key!r}]: unknown value {value!r}; accepted: " +
                                     ", ".join(NAMES_OF_KEY[key]))
                converted.append(name)
            else:
                converted.append(list(value) if isinstance(value, (list, tuple)) else value)
        table[key] = converted
    return table


def _config_tables(config, train, test, validation, hyperparameter_values, search_settings, execution, output_dir,
                   settings):
    tables, source = _base_tables(config)
    for table in ("data", "search", "execution", "output", "hyperparameters"):
        tables.setdefault(table, {})
    output = os.path.abspath(os.fspath(output_dir)) if output_dir is not None else tables["output"].get("dir")
    if output is None:
        output = os.path.abspath("results")
    output = os.path.abspath(output)
    inputs = os.path.join(output, "inputs")
    for name, value in (("train", train), ("test", test)):
        if value is not None:
            tables["data"][name] = data_inputs.data_file(value, name, inputs)
        elif name not in tables["data"]:
            raise TypeError(f"search() needs {name}= (a CSV path, a DataFrame or (X, y)) or a config that names it")
    for name in ("train", "test", "validation"):  # a dict config's relative paths: from the working folder
        if isinstance(tables["data"].get(name), str):
            tables["data"][name] = os.path.abspath(tables["data"][name])
    if validation is not None:
        tables["data"]["validation"] = validation if data_inputs.is_fraction(validation) else \
            data_inputs.data_file(validation, "validation", inputs)
    for key, value in search_settings.items():
        if value is not None:
            tables["search"][key] = value
    for key, value in execution.items():
        if value is not None:
            tables["execution"][key] = value
    for key, value in settings.items():
        if key not in SETTING_TABLES:
            raise TypeError(f"search() got an unknown setting {key}=; the settings it takes besides its named "
                            f"arguments: {', '.join(sorted(SETTING_TABLES))} (docs/CONFIG.md)")
        tables[SETTING_TABLES[key]][key] = value
    if hyperparameter_values is not None:
        tables["hyperparameters"] = hyperparameter_table(hyperparameter_values)
    tables["output"]["dir"] = "."  # the folder of search.toml
    return tables, output, source


def _wait(lib, handle, display):
    """Polls the native search until it ends; Ctrl-C asks it to stop (the trainings in flight
    finish and commit) and is raised again once it has."""
    done, total = ctypes.c_ulonglong(), ctypes.c_ulonglong()
    interrupted = False
    while True:
        try:
            ended = lib.hf_search_wait(handle, 100)  # the GIL is released while it waits
        except KeyboardInterrupt:
            if not interrupted:
                lib.hf_search_stop(handle)
                print("\nhyperfuse: stopping after the trainings in flight (they commit to the journal); the same "
                      "call resumes", file=sys.stderr)
            interrupted = True
            continue
        lib.hf_search_progress(handle, ctypes.byref(done), ctypes.byref(total))
        display.update(done.value, total.value)
        if ended:
            return interrupted


def search(config=None, *, train=None, test=None, validation=None, hyperparameter_values=None,
           explore_all_combinations=None, number_of_combinations_to_try=None, rerun_count=None, cpu_count=None,
           device=None, output_dir=None, seed=None, progress=True, fresh=False, **settings):
    """Runs a search and returns its Study. Arguments left None keep the config's value, else
    hyperfuse's default (docs/CONFIG.md: explore_all_combinations=True,
    number_of_combinations_to_try=100, rerun_count=3, cpu_count=0 (every core), device="auto",
    seed=42, output_dir="results"). `config`: a TOML path or a dict of its tables.
    `hyperparameter_values`: the seed's dictionary (read_seed_config() returns it). train, test,
    validation: a CSV path, a DataFrame (features, then the 0/1 label) or arrays (X, y); validation
    may also be a fraction. **settings: other config keys, such as permutations=0. Running the
    same call again resumes the study; fresh=True starts it over."""
    tables, output, source = _config_tables(
        config, train, test, validation, hyperparameter_values,
        {"explore_all_combinations": explore_all_combinations,
         "number_of_combinations_to_try": number_of_combinations_to_try, "rerun_count": rerun_count, "seed": seed},
        {"device": device, "cpu_count": cpu_count}, output_dir, settings)
    os.makedirs(output, exist_ok=True)
    config_path = os.path.join(output, CONFIG_FILE)
    header = "# The config of this search, written by hyperfuse.search()" + (f" from {source}" if source else "") + \
             "; `hyperfuse run` of this file runs it again."
    text = toml_text(tables, header)
    temporary = config_path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, config_path)
    data_files = [tables["data"].get(name) for name in ("train", "test", "validation")]

    lib = library()
    handle = ctypes.c_void_p()
    status = lib.hf_search_start(encoded(config_path), int(bool(fresh)), ctypes.byref(handle))
    if status != 0:
        message = decoded(lib.hf_error_message())
        raise input_error_from_message(message, data_files) if status == 2 else RuntimeError(message)
    started = time.monotonic()
    try:
        with progress_display(progress) as display:
            interrupted = _wait(lib, handle, display)
        status = lib.hf_search_status(handle)
        message = decoded(lib.hf_search_error(handle))
        log = decoded(lib.hf_search_log(handle))
    finally:
        lib.hf_search_free(handle)
    if log:  # notices, said even without progress, as the CLI's --quiet still says them
        sys.stderr.write(log)
    if status == 2:
        raise input_error_from_message(message, data_files)
    if status == 1:
        raise RuntimeError(f"hyperfuse: runtime failure: {message}")
    if status == 130 or interrupted:
        raise KeyboardInterrupt(f"search stopped after {time.monotonic() - started:.1f} s; finished trainings are "
                                f"in {os.path.join(output, 'study.sqlite')}; the same call resumes")
    return Study(output)
