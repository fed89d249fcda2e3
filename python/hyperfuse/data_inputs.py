"""Turns search() and predict() data arguments (a CSV path, a pandas DataFrame, numpy arrays
(X, y)) into the CSV files the native core reads: checked here first, so a Python value of the
wrong kind is a ValueError naming the argument and the row, and written with every number in
its shortest round-trip form, so the core reads the very doubles the caller holds."""
import math
import os


def _frame_type():
    try:
        import pandas
    except ImportError:
        return None
    return pandas.DataFrame


def pandas_types():
    import pandas.api.types
    return pandas.api.types


def is_path(value):
    return isinstance(value, (str, bytes, os.PathLike))


def _float_matrix(values, name):
    import numpy as np  # imported where used: `hyperfuse convert` runs without numpy

    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: every feature must be a number ({error})") from None
    if matrix.ndim != 2:
        raise ValueError(f"{name}: X must be 2-D, rows x features, not of shape {matrix.shape}")
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(f"{name}: X has shape {matrix.shape}; it needs at least one row and one feature")
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: row {row + 1}, feature {column + 1} is {matrix[row, column]}; every feature must "
                         f"be a finite number (drop or fill the row)")
    return matrix


def labelled_arrays(value, name):
    """(X, y) from a DataFrame (the CSV's layout: feature columns, then the 0/1 label) or a
    tuple of arrays; rows counted from 1."""
    import numpy as np

    frame = _frame_type()
    if frame is not None and isinstance(value, frame):
        for column, dtype in value.dtypes.items():
            if not (pandas_types().is_numeric_dtype(dtype) or pandas_types().is_bool_dtype(dtype)):
                raise ValueError(f"{name}: column {column!r} is {dtype}, not numbers; a DataFrame holds the CSV's "
                                 f"layout: feature columns, then the 0/1 label")
        if value.shape[1] < 2:
            raise ValueError(f"{name}: the DataFrame has {value.shape[1]} column; it needs features and a label")
        matrix = _float_matrix(value.to_numpy(dtype=np.float64, na_value=np.nan), name)
        features, labels = matrix[:, :-1], matrix[:, -1]
    elif isinstance(value, tuple) and len(value) == 2:
        features = _float_matrix(value[0], name)
        labels = np.asarray(value[1])
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise ValueError(f"{name}: y must be 1-D (one label per row), not of shape {labels.shape}")
        if labels.shape[0] != features.shape[0]:
            raise ValueError(f"{name}: X has {features.shape[0]} rows but y has {labels.shape[0]} labels")
        try:
            labels = labels.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: y must hold the labels 0 and 1, not {labels.dtype} values") from None
    else:
        raise ValueError(f"{name}: give a CSV path, a pandas DataFrame or numpy arrays (X, y), not "
                         f"{type(value).__name__}")
    not_binary = ~((labels == 0) | (labels == 1))
    if not_binary.any():
        row = int(np.argmax(not_binary))
        raise ValueError(f"{name}: row {row + 1} has the label {labels[row]}; y must be 0 or 1")
    return features, labels.astype(np.int64)


def _write_atomically(path, lines):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.writelines(lines)
    os.replace(temporary, path)


def write_labelled_csv(features, labels, path):
    """The CSV layout of hyperfuse's data files: no header, features, then the label."""
    rows = features.tolist()  # Python floats: repr is the shortest round-trip text
    _write_atomically(path, (",".join(map(repr, row)) + f",{label}\n" for row, label in zip(rows, labels.tolist())))


def data_file(value, name, folder):
    """The path the core reads for a search's `name` (train, test, validation): a path as
    given (absolute), else the checked data written to FOLDER/NAME.csv."""
    if is_path(value):
        return os.path.abspath(os.fsdecode(value))
    features, labels = labelled_arrays(value, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.csv")
    write_labelled_csv(features, labels, path)
    return path


def prediction_file(value, path):
    """predict()'s rows as a CSV the core reads: an optional identifier column (text) first,
    the features, an optional 0/1 label last, as `hyperfuse predict` takes them."""
    import numpy as np

    frame = _frame_type()
    if frame is not None and isinstance(value, frame):
        columns = list(value.columns)
        identifiers = None
        if columns and not pandas_types().is_numeric_dtype(value.dtypes.iloc[0]):
            identifiers = value.iloc[:, 0].astype(str).tolist()
            value = value.iloc[:, 1:]
        features = _float_matrix(value.to_numpy(dtype=np.float64, na_value=np.nan), "X")
    else:
        identifiers = None
        features = _float_matrix(value, "X")
    rows = features.tolist()
    for row_number, identifier in enumerate(identifiers or []):
        if "," in identifier or '"' in identifier or "\n" in identifier:
            raise ValueError(f"X: row {row_number + 1}'s identifier {identifier!r} holds a comma, quote or line "
                             f"break; use plain tickers")
    if identifiers is None:
        _write_atomically(path, (",".join(map(repr, row)) + "\n" for row in rows))
    else:
        _write_atomically(path, (f"{identifier}," + ",".join(map(repr, row)) + "\n"
                                 for identifier, row in zip(identifiers, rows)))
    return path


def is_fraction(value):
    return isinstance(value, float) and not math.isnan(value)
