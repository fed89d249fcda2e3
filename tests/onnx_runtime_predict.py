#!/usr/bin/env python3
"""Runs a hyperfuse ONNX export in onnxruntime over a CSV of rows with an identifier first (as
latest.csv) and prints "identifier,probability,buy" per row, in file order. Used by
tests/predict_command_test.cpp to hold the export to `hyperfuse predict`; it needs
onnxruntime and numpy (pip install --user onnxruntime), and the test skips without them."""
import sys

import numpy as np
import onnxruntime


def main(model_path, rows_path):
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    identifiers, features = [], []
    with open(rows_path) as rows:
        for line in rows:
            cells = [c.strip() for c in line.strip().split(",")]
            if cells == [""]:
                continue
            identifiers.append(cells[0].strip('"'))
            features.append([float(c.strip('"')) for c in cells[1:]])
    probability, buy = session.run(["probability", "buy"], {"features": np.array(features, dtype=np.float32)})
    for identifier, p, b in zip(identifiers, probability, buy):
        print(f"{identifier},{float(p)!r},{int(bool(b))}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
