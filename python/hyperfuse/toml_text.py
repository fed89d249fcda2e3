"""Writes a search configuration (a dict of TOML tables) as the TOML text `hyperfuse run` reads:
numbers in Python's shortest round-trip form, so a value reads back as the same double."""
import json
import math


def _value(value, where):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: the same escapes as JSON
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, where) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v, where + '.' + k)}" for k, v in value.items()) + " }"
    if hasattr(value, "item"):  # a numpy scalar
        return _value(value.item(), where)
    raise ValueError(f"{where}: cannot write {value!r} ({type(value).__name__}) in a config; use numbers, "
                     f"strings, booleans and lists")


def toml_text(tables, header=""):
    """`tables`: {"search": {"seed": 42, ...}, "hyperparameters": {...}}, in the order given."""
    lines = [header.rstrip("\n")] if header else []
    for table, keys in tables.items():
        if not keys:
            continue
        lines.append(f"\n[{table}]")
        for key, value in keys.items():
            lines.append(f"{key} = {_value(value, f'[{table}] {key}')}")
    return "\n".join(lines).lstrip("\n") + "\n"
