#!/usr/bin/env python3
"""Compares two hyperparameter_results.csv files of the same search (say, before and after a
change to the CPU kernels): rows are matched by their hyperparameters; prints how many rows
are identical in every column but execution_time, what differs in the others, and how well
the two rankings (the files' row order, best first) agree: Spearman's rank correlation and the
overlap of their top k. Exits 1 when the files do not hold the same combinations.

Usage: bench/compare_results.py BEFORE.csv AFTER.csv [--top 10,20,50]
Standard library only.
"""
import argparse
import csv
import math
import sys

HYPERPARAMETERS = [
    "learning_rate", "max_epochs", "batch_size", "hidden_layers", "loss_function", "activation_function",
    "optimizer", "dropout", "l1_regularization", "l2_regularization", "weight_initialization",
]
IGNORED = {"execution_time"}


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ranked = {}
    for rank, row in enumerate(rows):
        key = tuple(row[h] for h in HYPERPARAMETERS)
        if key in ranked:
            sys.exit(f"{path}: combination {key} appears twice")
        ranked[key] = (rank, row)
    return ranked


def spearman(first, second):
    """Spearman's rho for two rank lists without ties (ranks are row positions)."""
    n = len(first)
    if n < 2:
        return 1.0
    d2 = sum((a - b) ** 2 for a, b in zip(first, second))
    return 1.0 - 6.0 * d2 / (n * (n * n - 1))


def relative_difference(a, b):
    try:
        x, y = float(a), float(b)
    except ValueError:
        return None
    if x == y:
        return 0.0
    if math.isnan(x) or math.isnan(y):
        return math.inf
    return abs(x - y) / max(abs(x), abs(y))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--top", default="10,20,50", help="comma-separated k for the top-k overlap")
    args = parser.parse_args()
    before, after = read(args.before), read(args.after)
    if before.keys() != after.keys():
        only_before = len(before.keys() - after.keys())
        only_after = len(after.keys() - before.keys())
        print(f"the files hold different combinations: {only_before} only in BEFORE, {only_after} only in AFTER")
        return 1

    identical = 0
    differing_columns = {}
    for key, (_, row) in before.items():
        other = after[key][1]
        columns = [c for c in row if c not in IGNORED and row[c] != other.get(c)]
        if not columns:
            identical += 1
        for c in columns:
            diff = relative_difference(row[c], other[c])
            worst = differing_columns.get(c, (0, 0.0))
            differing_columns[c] = (worst[0] + 1, max(worst[1], diff if diff is not None else math.inf))
    n = len(before)
    print(f"{n} combinations; {identical} rows identical in every column but execution_time, {n - identical} differ")
    for c, (count, worst) in sorted(differing_columns.items()):
        print(f"  {c}: differs in {count} rows, largest relative difference {worst:.3g}")

    keys = sorted(before, key=lambda k: before[k][0])
    rho = spearman([before[k][0] for k in keys], [after[k][0] for k in keys])
    same_order = all(before[k][0] == after[k][0] for k in keys)
    print(f"ranking: Spearman rho {rho:.6f}; same order: {'yes' if same_order else 'no'}")
    for k in (int(v) for v in args.top.split(",") if v):
        top_before = {key for key in keys if before[key][0] < k}
        top_after = {key for key in keys if after[key][0] < k}
        print(f"  top {k}: {len(top_before & top_after)} of {min(k, n)} in both")
    return 0


if __name__ == "__main__":
    sys.exit(main())
