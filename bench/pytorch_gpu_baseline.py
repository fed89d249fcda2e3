#!/usr/bin/env python3
"""PyTorch on the GPU, the baseline for hyperfuse's CUDA backend, on the seed's network
([2, 3, 2, 1, 0.5] x 30 inputs, LeakyReLU, BCE, Adam, batch 32, no shuffling) and data:

  --mode trial: the seed script's loop, one training after another (model, DataLoader-style
                batches, loss.backward(), optimizer.step()), as the seed ran each trial;
  --mode vmap:  one pack of --networks networks trained together as a torch.func ensemble
                (stack_module_state + functional_call under vmap, one Adam over the stacked
                parameters, which is each network's own Adam since Adam acts element-wise).

Both time --epochs epochs (after one warm-up step) and extrapolate to --full-epochs, so a short
run gives the throughput of the full 8-epoch training. Prints one JSON line.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn

from pytorch_seed_training import load, scaled  # the same data loading and StandardScaler


def build_model(inputs):
    widths = [inputs] + [max(round(inputs * h), 1) for h in [2, 3, 2, 1, 0.5]] + [1]
    layers = []
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(a, b), nn.LeakyReLU()]
    layers += [nn.Linear(widths[-2], 1), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    for module in model:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
    return model, widths


def flops_per_training(widths, epochs, train_rows, test_rows):
    # As hyperfuse's training_flops: forward, weight and input gradients (none for layer 0).
    macs = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    first = widths[0] * widths[1]
    return 2.0 * ((3.0 * macs - first) * train_rows * epochs + macs * test_rows)


def batches(x, y, batch):
    for start in range(0, x.shape[0], batch):
        yield x[start:start + batch], y[start:start + batch]


def run_trials(args, x, y, tx, ty):
    device = x.device
    timed = 0.0
    for t in range(args.trainings):
        torch.manual_seed(t)
        model, widths = build_model(x.shape[1])
        model.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        criterion = nn.BCELoss()
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(args.epochs):
            for xb, yb in batches(x, y, args.batch_size):
                optimizer.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            int(((model(tx) > 0.5) & (ty > 0.5)).sum())
        torch.cuda.synchronize()
        timed += time.perf_counter() - started
    return args.trainings, timed, widths


def run_vmap(args, x, y, tx, ty):
    from torch.func import functional_call, stack_module_state, vmap

    device = x.device
    torch.manual_seed(0)
    models = [build_model(x.shape[1])[0].to(device) for _ in range(args.networks)]
    widths = build_model(x.shape[1])[1]
    params, buffers = stack_module_state(models)
    base = build_model(x.shape[1])[0].to("meta")

    def forward(p, b, xb):
        return functional_call(base, (p, b), (xb,))

    ensemble = vmap(forward, in_dims=(0, 0, None))
    optimizer = torch.optim.Adam(list(params.values()), lr=0.001)
    criterion = nn.BCELoss(reduction="none")

    def step(xb, yb):
        optimizer.zero_grad()
        out = ensemble(params, buffers, xb)  # networks x rows x 1
        # Sum over networks of each network's mean loss: each gets its own gradient.
        loss = criterion(out, yb.expand_as(out)).mean(dim=(1, 2)).sum()
        loss.backward()
        optimizer.step()

    xb, yb = next(batches(x, y, args.batch_size))
    step(xb, yb)  # warm-up
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(args.epochs):
        for xb, yb in batches(x, y, args.batch_size):
            step(xb, yb)
    with torch.no_grad():
        out = ensemble(params, buffers, tx)
        ((out > 0.5) & (ty > 0.5)).sum(dim=(1, 2)).cpu()
    torch.cuda.synchronize()
    return args.networks, time.perf_counter() - started, widths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="example_data/train.csv")
    parser.add_argument("--test", default="example_data/test.csv")
    parser.add_argument("--mode", choices=["trial", "vmap"], default="trial")
    parser.add_argument("--trainings", type=int, default=2, help="trial mode: trainings one after another")
    parser.add_argument("--networks", type=int, default=768, help="vmap mode: networks in the pack")
    parser.add_argument("--epochs", type=int, default=1, help="epochs timed")
    parser.add_argument("--full-epochs", type=int, default=8, help="epochs of the training extrapolated to")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"implementation": f"pytorch-{args.mode}", "error": "no CUDA device visible to torch"}))
        return
    device = torch.device("cuda")
    train_x, train_y = load(args.train)
    test_x, test_y = load(args.test)
    train_x, test_x = scaled(train_x, test_x)
    def on_gpu(array):
        return torch.tensor(array, dtype=torch.float32, device=device)

    x, y, tx, ty = on_gpu(train_x), on_gpu(train_y), on_gpu(test_x), on_gpu(test_y)
    run = run_trials if args.mode == "trial" else run_vmap
    trainings, seconds, widths = run(args, x, y, tx, ty)
    full_seconds = seconds * args.full_epochs / args.epochs
    flops = trainings * flops_per_training(widths, args.full_epochs, x.shape[0], tx.shape[0])
    print(json.dumps({"implementation": f"pytorch-{args.mode}", "torch": torch.__version__,
                      "gpu": torch.cuda.get_device_name(0), "train_rows": x.shape[0], "test_rows": tx.shape[0],
                      "trainings": trainings, "epochs_timed": args.epochs, "seconds_timed": round(seconds, 4),
                      "trainings_per_second": round(trainings / full_seconds, 4),
                      "gflops": round(flops / full_seconds / 1e9, 3),
                      "share_of_fp32_peak": round(flops / full_seconds / 67e12, 5)}))


if __name__ == "__main__":
    main()
