"""Reads the seed script's config.py without executing it (Python's `ast`): its
`hyperparameter_values` dictionary in every spelling the seed's users write (enum-member keys
such as `Hyper.LEARNING_RATE`, values such as `Lf.SMOOTH_L1`, `Af.LeakyReLU`, `Opti.RMSPROP`,
`Wi.XAVIER_UNIFORM`, PyTorch classes such as `nn.ReLU`, strings such as 'RMSprop', plain string
keys) and its EXPLORE_ALL_COMBINATIONS, NUMBER_OF_COMBINATIONS_TO_TRY, RERUN_COUNT and
CPU_COUNT, as the keyword arguments of hyperfuse.search(). Standard library only: `hyperfuse
convert` runs it with python3 without the native library."""
import ast

from .errors import ConfigError

# hyperfuse's canonical key names (host/search/hyperparameters.cpp), each with the other names
# a seed config.py may give it, compared after lower-casing (so `Hyper.LEARNING_RATE` and
# 'learning_rate' are the same key).
KEY_ALIASES = {
    "learning_rate": ("learning_rate", "lr"),
    "max_epochs": ("max_epochs", "epochs", "num_epochs", "number_of_epochs"),
    "batch_size": ("batch_size",),
    "hidden_layers": ("hidden_layers", "hidden_layer_sizes", "layers"),
    "loss_function": ("loss_function", "loss", "criterion"),
    "activation_function": ("activation_function", "activation"),
    "optimizer": ("optimizer", "optimiser"),
    "dropout": ("dropout", "dropout_rate", "dropout_probability"),
    "l1_regularization": ("l1_regularization", "l1_regularisation", "l1", "l1_lambda"),
    "l2_regularization": ("l2_regularization", "l2_regularisation", "l2", "l2_lambda", "weight_decay"),
    "weight_initialization": ("weight_initialization", "weight_initialisation", "weight_init", "initialization"),
}

# The names hyperfuse trains with, per name-valued key, as kernels/math/codes.hpp spells them
# (a test holds the two lists equal).
LOSS_NAMES = ("BCE", "MSE", "Huber", "SmoothL1", "L1")
ACTIVATION_NAMES = ("ELU", "Hardshrink", "Hardsigmoid", "Hardtanh", "Hardswish", "LeakyReLU", "LogSigmoid", "PReLU",
                    "ReLU", "ReLU6", "RReLU", "SELU", "CELU", "GELU", "Sigmoid", "SiLU", "Mish", "Softplus",
                    "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Softmin", "Softmax", "LogSoftmax")
OPTIMIZER_NAMES = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "Adadelta")
WEIGHT_INIT_NAMES = ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "normal",
                     "uniform")
NAMES_OF_KEY = {
    "loss_function": LOSS_NAMES,
    "activation_function": ACTIVATION_NAMES,
    "optimizer": OPTIMIZER_NAMES,
    "weight_initialization": WEIGHT_INIT_NAMES,
}

# The module-level settings of config.py and the search() argument each becomes.
SETTINGS = {
    "EXPLORE_ALL_COMBINATIONS": "explore_all_combinations",
    "NUMBER_OF_COMBINATIONS_TO_TRY": "number_of_combinations_to_try",
    "RERUN_COUNT": "rerun_count",
    "CPU_COUNT": "cpu_count",
}
DICTIONARY_NAMES = ("hyperparameter_values", "HYPERPARAMETER_VALUES")


def canonical_key(name):
    """hyperfuse's name of a hyperparameter key as config.py spells it, or None."""
    spelled = name.lower()
    for key, aliases in KEY_ALIASES.items():
        if spelled in aliases:
            return key
    return None


def _squashed(name):
    return name.lower().replace("_", "").replace("-", "")


def canonical_name(key, spelled):
    """hyperfuse's name for a value of a name-valued key (`Lf.SMOOTH_L1`'s 'SMOOTH_L1',
    `nn.LeakyReLU`'s 'LeakyReLU', 'rmsprop', `nn.init.xavier_uniform_`'s 'xavier_uniform_'), or
    None. PyTorch's class and function spellings map too: nn.BCELoss is BCE; BCEWithLogitsLoss
    on the logits is BCE on the sigmoid output, which is what hyperfuse computes."""
    wanted = _squashed(spelled.rstrip("_"))
    if key == "loss_function":
        if wanted.endswith("loss"):
            wanted = wanted[: -len("loss")]
        if wanted in ("bcewithlogits", "binarycrossentropy", "crossentropy"):
            wanted = "bce"
        if wanted in ("meansquarederror",):
            wanted = "mse"
        if wanted in ("meanabsoluteerror",):
            wanted = "l1"
    if key == "weight_initialization":
        for other, ours in (("glorot", "xavier"), ("he", "kaiming")):  # Keras's names
            if wanted.startswith(other):
                wanted = ours + wanted[len(other):]
    for name in NAMES_OF_KEY[key]:
        if _squashed(name) == wanted:
            return name
    return None


def _accepted_keys():
    return ", ".join(f"Hyper.{key.upper()} or '{key}'" for key in KEY_ALIASES)


class _Reader:
    """Evaluates the literal parts of one config.py; every refusal names its line."""

    def __init__(self, path):
        self.path = str(path)

    def fail(self, node, message, key=None):
        line = getattr(node, "lineno", None)
        column = getattr(node, "col_offset", None)
        where = self.path + (f":{line}" if line else "") + (f":{column + 1}" if line and column is not None else "")
        return ConfigError(f"{where}: {message}", file=self.path, line=line,
                           column=column + 1 if column is not None else None, key=key)

    def dotted(self, node):
        """`Lf.SMOOTH_L1` -> 'Lf.SMOOTH_L1', `nn.init.xavier_uniform_` -> ..., else None."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(node.id)
        return ".".join(reversed(parts))

    def key_of(self, node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            spelled = node.value
        else:
            spelled = self.dotted(node)
            if spelled is None:
                raise self.fail(node, f"a key of {DICTIONARY_NAMES[0]} must be a name such as Hyper.LEARNING_RATE "
                                      f"or a string such as 'learning_rate'; accepted keys: {_accepted_keys()}")
            spelled = spelled.rsplit(".", 1)[-1]
        key = canonical_key(spelled)
        if key is None:
            raise self.fail(node, f"unknown hyperparameter '{spelled}'; accepted keys: {_accepted_keys()}")
        return key

    def number(self, node, key):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.number(node.operand, key)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
                node.value, bool):
            return node.value
        raise self.fail(node, f"{key}: expected a number here, not {ast.unparse(node)}", key)

    def value(self, node, key):
        """One value of `key` as hyperfuse's TOML writes it: a number, a list of numbers, a name."""
        if key == "hidden_layers":
            if not isinstance(node, (ast.List, ast.Tuple)):
                raise self.fail(node, f"hidden_layers: each value is a list of layer widths as multiples of the "
                                      f"input width, such as [2, 3, 2, 1, 0.5], not {ast.unparse(node)}", key)
            return [self.number(element, key) for element in node.elts]
        if key not in NAMES_OF_KEY:
            return self.number(node, key)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            spelled = node.value
        else:
            spelled = self.dotted(node)
            if spelled is None:
                raise self.fail(node, f"{key}: expected a name such as {NAMES_OF_KEY[key][0]!r}, "
                                      f"not {ast.unparse(node)}", key)
        name = canonical_name(key, spelled.rsplit(".", 1)[-1])
        if name is None:
            raise self.fail(node, f"{key}: unknown value {spelled}; accepted: " + ", ".join(NAMES_OF_KEY[key]) +
                            " (as strings, enum members such as X.SMOOTH_L1 or PyTorch classes such as nn.ReLU, "
                            "in any case)", key)
        return name

    def dictionary(self, node):
        if not isinstance(node, ast.Dict):
            raise self.fail(node, f"{DICTIONARY_NAMES[0]} must be a dictionary literal {{key: [values], ...}}")
        values = {}
        for key_node, list_node in zip(node.keys, node.values):
            if key_node is None:
                raise self.fail(list_node, f"{DICTIONARY_NAMES[0]}: ** unpacking cannot be read without running "
                                           f"the file; write the keys out")
            key = self.key_of(key_node)
            if key in values:
                raise self.fail(key_node, f"{key} is given twice in {DICTIONARY_NAMES[0]}; keep one", key)
            if not isinstance(list_node, (ast.List, ast.Tuple)):
                raise self.fail(list_node, f"{key}: the value must be a list of the values to try, such as "
                                           f"[{ast.unparse(list_node)}]", key)
            values[key] = [self.value(element, key) for element in list_node.elts]
        return values

    def setting(self, name, node):
        argument = SETTINGS[name]
        if name == "CPU_COUNT" and isinstance(node, ast.Call) and not node.args and not node.keywords:
            called = self.dotted(node.func)
            if called is not None and called.rsplit(".", 1)[-1] == "cpu_count":
                return 0  # every core, as hyperfuse's cpu_count = 0 means
        if name == "EXPLORE_ALL_COMBINATIONS":
            if isinstance(node, ast.Constant) and isinstance(node.value, bool):
                return node.value
            raise self.fail(node, f"{name} must be True or False, not {ast.unparse(node)}", argument)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        accepted = "a whole number or cpu_count()" if name == "CPU_COUNT" else "a whole number"
        raise self.fail(node, f"{name} must be {accepted}, not {ast.unparse(node)}", argument)


def read_seed_config_text(text, path="config.py"):
    """read_seed_config() on the file's text; `path` names it in errors."""
    reader = _Reader(path)
    try:
        module = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise ConfigError(f"{path}:{error.lineno}: not valid Python ({error.msg})", file=str(path),
                          line=error.lineno) from None
    arguments = {}
    for statement in module.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, node = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, node = statement.target, statement.value
        else:
            continue  # imports, functions and anything else are never run, so never matter
        if not isinstance(target, ast.Name):
            continue
        if target.id in DICTIONARY_NAMES:
            arguments["hyperparameter_values"] = reader.dictionary(node)
        elif target.id in SETTINGS:
            arguments[SETTINGS[target.id]] = reader.setting(target.id, node)
    if "hyperparameter_values" not in arguments:
        raise ConfigError(f"{path}: no hyperparameter_values = {{...}} dictionary found at the top level; "
                          f"the seed's config.py defines one", file=str(path))
    return arguments


def read_seed_config(path):
    """The keyword arguments of hyperfuse.search() that the seed's config.py at `path` sets:
    hyperparameter_values (hyperfuse's key names and value spellings) and, where the file sets
    them, explore_all_combinations, number_of_combinations_to_try, rerun_count and cpu_count
    (`cpu_count()` is 0: every core). The file is parsed, never executed."""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return read_seed_config_text(text, path)
