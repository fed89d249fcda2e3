"""A search's output folder as a Python object: its results and failed trainings as DataFrames
read from the study journal (study.sqlite) while a run goes on, and the commands `hyperfuse
predict`, `export` and `report` on its kept networks."""
import csv
import ctypes
import functools
import io
import math
import os
import sqlite3
import tempfile

from . import data_inputs
from .errors import input_error_from_message
from .native import decoded, encoded, library

JOURNAL_FILE = "study.sqlite"
RESULTS_FILE = "hyperparameter_results.csv"
ERRORS_FILE = "errors.csv"


@functools.lru_cache(maxsize=None)  # a study repeats few distinct values many times
def _csv_cell(text):
    """host/report/results_csv.cpp's csv_cell: quoted when it holds a comma, quote or line break."""
    if "," not in text and '"' not in text and "\n" not in text and "\r" not in text:
        return text
    return '"' + text.replace('"', '""') + '"'


def _log10_mean_of_two(lower, upper):
    # host/scoring/median_of_reruns.cpp, operation for operation, so the digits agree.
    return upper + math.log10((math.pow(10.0, lower - upper) + 1.0) / 2.0)


def _median_of_reruns(log10_p_values, p_values):
    """(median log10 p, median p, the representative rerun's index), as median_of_reruns()."""
    order = sorted(range(len(log10_p_values)), key=lambda i: log10_p_values[i])  # stable, as std::stable_sort
    count = len(order)
    if count % 2 == 1:
        middle = order[count // 2]
        return log10_p_values[middle], p_values[middle], middle
    lower, upper = order[count // 2 - 1], order[count // 2]
    return (_log10_mean_of_two(log10_p_values[lower], log10_p_values[upper]),
            (p_values[lower] + p_values[upper]) / 2.0, lower)


def _adjusted(ascending_log10_p_values):
    """Holm's and Benjamini-Hochberg's adjusted log10 p-values (host/scoring/multiple_testing.cpp)."""
    m = len(ascending_log10_p_values)
    holm, running = [], -math.inf
    for i, value in enumerate(ascending_log10_p_values):
        running = max(running, min(0.0, value + math.log10(float(m - i))))
        holm.append(running)
    bh, running = [0.0] * m, 0.0
    for i in range(m - 1, -1, -1):
        running = min(running, ascending_log10_p_values[i] + math.log10(float(m) / float(i + 1)))
        bh[i] = running
    return holm, bh


def _precision_text(counts):
    tp, fp = counts[0], counts[1]
    return repr(tp / (tp + fp)) if tp + fp > 0 else "0.0"


class Study:
    """The output folder of a search (its [output] dir): `Study("results")`."""

    def __init__(self, directory="results"):
        self.directory = os.fspath(directory)

    def __repr__(self):
        return f"Study({self.directory!r})"

    @property
    def journal_path(self):
        return os.path.join(self.directory, JOURNAL_FILE)

    def _connect(self):
        if not os.path.exists(self.journal_path):
            raise FileNotFoundError(f"{self.journal_path}: no study journal; give Study() the output folder of a "
                                    f"search (its [output] dir or output_dir)")
        connection = sqlite3.connect(self.journal_path, timeout=30.0)
        connection.execute("PRAGMA query_only = ON")  # never writes: a running search owns the journal
        return connection

    def _journal(self):
        """The hyperparameter keys, the study's settings and every training row, the latter in one query."""
        connection = self._connect()
        try:
            columns = [row[1] for row in connection.execute("PRAGMA table_info(trainings)")]
            keys = columns[columns.index("seed") + 1: columns.index("status")]
            settings = dict(connection.execute("SELECT fact, value FROM study_settings"))
            quoted = ", ".join('"' + key.replace('"', '""') + '"' for key in keys)
            rows = connection.execute(
                f"SELECT combination, rerun, seed, {quoted}, status, tp, fp, fn, tn, precision, p_value, "
                f"log10_p_value, test_tp, test_fp, test_fn, test_tn, test_p_value, test_log10_p_value, seconds, "
                f"error FROM trainings").fetchall()
        finally:
            connection.close()
        return keys, settings, columns, rows

    def _written_search_p_values(self, keys):
        """search_p_value by hyperparameter values, from the last results file written (the
        permutation test runs when a run ends, so it is not in the journal)."""
        path = os.path.join(self.directory, RESULTS_FILE)
        if not os.path.exists(path):
            return {}
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            header = next(reader, [])
            if header[:len(keys)] != keys or "search_p_value" not in header:
                return {}
            column = header.index("search_p_value")
            return {tuple(row[:len(keys)]): row[column] for row in reader if len(row) > column}

    def results_csv_text(self):
        """The results as hyperparameter_results.csv holds them, computed from the journal as the
        run computes them (host/scoring/ranking.cpp): the combinations whose reruns all finished,
        by median log10 p-value, ties in grid order."""
        keys, settings, columns, rows = self._journal()
        if "epochs_trained" in columns:
            return self._written_file(RESULTS_FILE)  # successive halving: ranked by rung (docs/PYTHON.md)
        reruns = int(settings["search.rerun_count"])
        validation = "data.validation" in settings
        width = len(keys)
        by_combination = {}
        for row in rows:
            by_combination.setdefault(int(row[0]), []).append(row)
        ranked = []
        for number in sorted(by_combination):
            trainings = sorted(by_combination[number], key=lambda r: r[1])
            if len(trainings) < reruns or any(r[3 + width] == "failed" for r in trainings):
                continue  # unfinished, or in errors()
            base = 4 + width  # tp
            log10_p = [r[base + 6] for r in trainings]
            p = [r[base + 5] for r in trainings]
            median_log10, median_p, middle = _median_of_reruns(log10_p, p)
            entry = {
                "values": [str(v) for v in trainings[0][3:3 + width]],
                "log10": median_log10, "p": median_p,
                "seconds": sum(r[base + 13] for r in trainings),
                "counts": trainings[middle][base:base + 4], "precision": trainings[middle][base + 4],
                "reruns": p,
            }
            if validation:
                test_log10 = [r[base + 12] for r in trainings]
                test_p = [r[base + 11] for r in trainings]
                entry["test_log10"], _, test_middle = _median_of_reruns(test_log10, test_p)
                entry["test_counts"] = trainings[test_middle][base + 7:base + 11]
            ranked.append(entry)
        ranked.sort(key=lambda e: e["log10"])  # stable: ties keep grid order
        holm, bh = _adjusted([e["log10"] for e in ranked])
        search_p_values = self._written_search_p_values(keys)
        header = keys + ["p_value", "execution_time", "log10_p_value", "precision", "tp", "fp", "fn", "tn"]
        header += [f"p_value_rerun_{r}" for r in range(1, reruns + 1)]
        header += ["holm_p_value", "bh_p_value", "search_p_value"]
        if validation:
            header += [f"{s}_{c}" for s in ("val", "test") for c in
                       ("log10_p_value", "precision", "tp", "fp", "fn", "tn")]
        lines = [",".join(header)]
        for k, e in enumerate(ranked):
            counts = [str(c) for c in e["counts"]]
            cells = [_csv_cell(v) for v in e["values"]]
            cells += [repr(e["p"]), f"{e['seconds']:.4f}", repr(e["log10"]), repr(e["precision"])] + counts
            cells += [repr(p) for p in e["reruns"]]
            cells += [repr(math.pow(10.0, holm[k])), repr(math.pow(10.0, bh[k])),
                      search_p_values.get(tuple(e["values"]), "")]
            if validation:
                cells += [repr(e["log10"]), repr(e["precision"])] + counts
                cells += [repr(e["test_log10"]), _precision_text(e["test_counts"])] + [str(c) for c in
                                                                                     e["test_counts"]]
            lines.append(",".join(cells))
        return "\n".join(lines) + "\n"

    def _written_file(self, name):
        path = os.path.join(self.directory, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: not written yet (a halving search writes it when it ends)")
        with open(path, encoding="utf-8") as file:
            return file.read()

    def results(self):
        """A DataFrame with hyperparameter_results.csv's columns and dtypes, best first, from the
        journal: what has finished so far while a search runs."""
        import pandas
        return pandas.read_csv(io.StringIO(self.results_csv_text()))

    def errors(self):
        """A DataFrame of the failed trainings, as errors.csv: hyperparameters, rerun, seed, error."""
        import pandas
        keys, _, columns, rows = self._journal()
        if "epochs_trained" in columns:
            return pandas.read_csv(io.StringIO(self._written_file(ERRORS_FILE)))
        width = len(keys)
        failed = sorted((r for r in rows if r[3 + width] == "failed"), key=lambda r: (int(r[0]), r[1]))
        lines = [",".join(keys + ["rerun", "seed", "error"])]
        for r in failed:
            lines.append(",".join([_csv_cell(str(v)) for v in r[3:3 + width]] +
                                  [str(r[1]), r[2], _csv_cell(r[-1] or "")]))
        return pandas.read_csv(io.StringIO("\n".join(lines) + "\n"))

    def best(self, rank=1):
        """The rank-th combination of results() (1 = the best) as a pandas Series."""
        results = self.results()
        if not 1 <= rank <= len(results):
            raise ValueError(f"rank {rank}: the study ranks {len(results)} combinations so far; use 1 to "
                             f"{len(results)}")
        return results.iloc[rank - 1]

    def _check(self, status):
        if status == 2:
            raise input_error_from_message(decoded(library().hf_error_message()))
        if status != 0:
            raise RuntimeError(decoded(library().hf_error_message()))

    def predict(self, data, rank=1, out=None):
        """`hyperfuse predict`: the buy list of combination `rank` (identifier or row, probability,
        buy; most probable first) for `data`, a CSV path, a DataFrame (optionally an identifier
        column first) or a 2-D array of features; written to `out` too when given."""
        import pandas
        lib = library()
        with tempfile.TemporaryDirectory(prefix="hyperfuse-predict-") as folder:
            path = data if data_inputs.is_path(data) else data_inputs.prediction_file(
                data, os.path.join(folder, "rows.csv"))
            csv_pointer = ctypes.c_void_p()
            self._check(lib.hf_predict(encoded(self.directory), int(rank), encoded(path), ctypes.byref(csv_pointer)))
        try:
            text = ctypes.string_at(csv_pointer).decode("utf-8")
        finally:
            lib.hf_free(csv_pointer)
        if out is not None:
            with open(out, "w", encoding="utf-8") as file:
                file.write(text)
        first_column = text.split(",", 1)[0]
        return pandas.read_csv(io.StringIO(text), dtype={first_column: str} if first_column == "identifier" else None)

    def export_onnx(self, path, rank=1):
        """`hyperfuse export --onnx PATH`: combination `rank` as one ONNX model."""
        self._check(library().hf_export_onnx(encoded(self.directory), int(rank), encoded(path)))
        return os.fspath(path)

    def report(self, path=None):
        """`hyperfuse report`: one HTML file of plots (default DIR/report.html); returns its path."""
        path = os.path.join(self.directory, "report.html") if path is None else os.fspath(path)
        self._check(library().hf_report(encoded(self.directory), encoded(path)))
        return path
