"""The exceptions hyperfuse raises: the CLI's located messages ("file:line:column: what; how to
fix it", exit status 2) as ConfigError or DataError with the place as attributes."""
import re

# "path:12:5: [hyperparameters] learning_rate: ..." (line and column optional).
_LOCATED = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+)(?::(?P<column>\d+))?: (?P<what>.*)$", re.DOTALL)
# The config key a message is about: "[section] key: ..." or "[section] key = ...".
_KEY = re.compile(r"\[(?P<table>[a-z_]+)\] (?P<key>[a-z_0-9]+)")


class HyperfuseInputError(ValueError):
    """Bad config, data or usage, as the CLI's exit status 2. `file`, `line`, `column` and `key`
    say where (None where the message names no such place); str() is the CLI's message."""

    def __init__(self, message, file=None, line=None, column=None, key=None, table=None):
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.table = table


class ConfigError(HyperfuseInputError):
    """The search's configuration is wrong: a TOML table or key, a config.py name, a value."""


class DataError(HyperfuseInputError):
    """A data file or table is wrong: a ragged row, a cell that is not a number, a label not 0/1."""


def input_error_from_message(message, data_files=()):
    """The CLI's message as a ConfigError, or a DataError when it names one of `data_files`
    (or any .csv file)."""
    file = line = column = key = table = None
    located = _LOCATED.match(message)
    what = message
    if located:
        file = located.group("file")
        line = int(located.group("line"))
        column = int(located.group("column")) if located.group("column") else None
        what = located.group("what")
    else:
        # "path: message" without a line (a missing file, a folder).
        head, separator, _ = message.partition(": ")
        if separator and ("/" in head or head.endswith((".csv", ".toml"))):
            file = head
    named = _KEY.search(what)
    if named:
        table, key = named.group("table"), named.group("key")
    is_data = file is not None and (file in set(str(f) for f in data_files) or file.endswith(".csv"))
    kind = DataError if is_data else ConfigError
    return kind(message, file=file, line=line, column=column, key=key, table=table)
