#!/usr/bin/env python3
"""The seed script's training loop in plain PyTorch: the baseline hyperfuse is measured against.

Trains the seed's network ([2, 3, 2, 1, 0.5] x 30 inputs, LeakyReLU, BCE, Adam, batch 32,
8 epochs, DataLoader without shuffling) `--trainings` times, one network after another in each
of `--processes` processes with one thread each, as the seed ran one process per CPU. Prints
one JSON line: trainings, seconds (the slowest process's training time, excluding imports
and data loading), trainings per second.
"""
import argparse
import json
import multiprocessing as mp
import time

import numpy as np
import torch
import torch.nn as nn


def load(path):
    table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    return table[:, :-1], table[:, -1:]


def scaled(train_x, test_x):
    mean = train_x.mean(axis=0)
    std = train_x.std(axis=0)
    std[std == 0] = 1.0
    return (train_x - mean) / std, (test_x - mean) / std


def build_model(inputs, multiples, activation):
    widths = [inputs] + [max(round(inputs * h), 1) for h in multiples] + [1]
    shared = getattr(nn, activation)()
    layers = []
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(a, b), shared, nn.Dropout(0.0)]
    layers += [nn.Linear(widths[-2], 1), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    for module in model:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
    return model


def train_some(job):
    args, count, seed = job
    torch.set_num_threads(1)
    train_x, train_y = load(args.train)
    test_x, test_y = load(args.test)
    train_x, test_x = scaled(train_x, test_x)
    x = torch.tensor(train_x, dtype=torch.float32)
    y = torch.tensor(train_y, dtype=torch.float32)
    tx = torch.tensor(test_x, dtype=torch.float32)
    ty = torch.tensor(test_y, dtype=torch.float32)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=args.batch_size, shuffle=False)
    started = time.perf_counter()
    for t in range(count):
        torch.manual_seed(seed + t)
        model = build_model(x.shape[1], [2, 3, 2, 1, 0.5], "LeakyReLU")
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        criterion = nn.BCELoss()
        model.train()
        for _ in range(args.epochs):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            predicted = model(tx) > 0.5
            int((predicted & (ty > 0.5)).sum())  # confusion counts, as the seed evaluated
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", default="example_data/train.csv")
    parser.add_argument("--test", default="example_data/test.csv")
    parser.add_argument("--trainings", type=int, default=4)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    per_process = [args.trainings // args.processes + (1 if p < args.trainings % args.processes else 0) for p in range(args.processes)]
    jobs = [(args, n, 1000 * p) for p, n in enumerate(per_process) if n > 0]
    with mp.get_context("spawn").Pool(len(jobs)) as pool:
        seconds = max(pool.map(train_some, jobs))
    print(json.dumps({"implementation": "pytorch", "torch": torch.__version__, "processes": args.processes,
                      "trainings": args.trainings, "seconds": round(seconds, 4),
                      "trainings_per_second": round(args.trainings / seconds, 4)}))


if __name__ == "__main__":
    main()
