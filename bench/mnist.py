"""MLP against CNN on full MNIST (60 000 training / 10 000 test digits) in PyTorch, on the CPU.

    python bench/mnist.py            # every row of the table (about 5 minutes on 2 cores)
    python bench/mnist.py --quick    # a smoke run on 6 000 training digits, one epoch each

Each row trains one model of labutils.mnist from a fixed seed with AdamW (SGD for the lecture's
sigmoid MLP, as in the lecture) and a one-cycle learning-rate schedule, batches of 128 taken from
tensors in memory (labutils.data.TensorBatches), then measures test accuracy. "wall s" counts
from loading the data to the end of the test pass; "s/epoch" is the training alone. The fast
CNN runs in channels-last memory order, which oneDNN's CPU convolutions prefer.
Targets: fast CNN >= 99.0 % within 60 s wall (3 epochs), >= 99.3 % in full mode (8 epochs);
ReLU MLP >= 98.0 %. The plain CNN and the sigmoid MLP are timed for comparison.
"""

import argparse
import time
from dataclasses import dataclass

import torch
from torch import nn

from labutils import data, mnist, train


@dataclass
class Run:
    name: str
    build: object  # () -> nn.Module
    epochs: int
    optimizer: str  # "adamw" or "sgd"
    lr: float
    target: float | None = None  # test accuracy to reach
    seconds: float | None = None  # ... within this many seconds of wall time
    channels_last: bool = False


RUNS = [
    Run("fast CNN (3 epochs)", mnist.fast_cnn, 3, "adamw", 0.01, 0.990, 60, True),
    Run("fast CNN, full mode (8 ep.)", mnist.fast_cnn, 8, "adamw", 0.01, 0.993,
        None, True),
    Run("ReLU MLP", lambda: mnist.mlp("relu"), 6, "adamw", 1e-3, 0.980),
    Run("sigmoid MLP (SGD)", mnist.mlp, 6, "sgd", 0.1),
    Run("plain CNN", mnist.plain_cnn, 2, "adamw", 1e-3),
]


def make_optimizer(run, model):
    if run.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=run.lr, momentum=0.9)
    return torch.optim.AdamW(model.parameters(), lr=run.lr, weight_decay=1e-4)


def train_and_test(run, train_size, epochs):
    """(parameters, seconds per epoch, wall seconds, test accuracy) of one run."""
    start = time.perf_counter()
    x_train, y_train = data.mnist_tensors(train=True)
    x_test, y_test = data.mnist_tensors(train=False)
    x_train, y_train = x_train[:train_size], y_train[:train_size]
    train.set_seed(0)
    model = run.build()
    if run.channels_last:
        model = model.to(memory_format=torch.channels_last)
    batches = data.TensorBatches(x_train, y_train, batch_size=128, shuffle=True, seed=0)
    optimizer = make_optimizer(run, model)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=run.lr, total_steps=epochs * len(batches), pct_start=0.25)
    fit_start = time.perf_counter()
    train.fit(model, batches, optimizer=optimizer, num_epochs=epochs, loss_fn=nn.NLLLoss(),
              device="cpu", progress=False, scheduler=schedule)
    per_epoch = (time.perf_counter() - fit_start) / epochs
    _, accuracy = train.evaluate(model, data.TensorBatches(x_test, y_test, batch_size=1000),
                                 nn.NLLLoss())
    return train.count_parameters(model), per_epoch, time.perf_counter() - start, accuracy


def verdict(run, accuracy, wall, quick):
    if run.target is None:
        return "(comparison)"
    if quick:
        return "(smoke run)"
    goal = f">={run.target:.1%}" + (f" in {run.seconds}s" if run.seconds else "")
    met = accuracy >= run.target and (run.seconds is None or wall <= run.seconds)
    return f"{goal} {'ok' if met else 'MISS'}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 6000 training digits, one epoch per model")
    args = parser.parse_args()
    train_size = 6000 if args.quick else 60000
    print(f"MNIST, {train_size} training / 10000 test digits, torch threads = "
          f"{torch.get_num_threads()}, batch 128, one-cycle schedule")
    header = (f"{'model':<28}{'params':>11}{'epochs':>7}{'s/epoch':>9}{'wall s':>8}"
              f"{'test acc':>10}  target")
    print(header)
    print("-" * (len(header) + 20))
    for run in RUNS:
        epochs = 1 if args.quick else run.epochs
        params, per_epoch, wall, accuracy = train_and_test(run, train_size, epochs)
        print(f"{run.name:<28}{params:>11,}{epochs:>7}{per_epoch:>9.1f}{wall:>8.1f}"
              f"{accuracy:>10.2%}  {verdict(run, accuracy, wall, args.quick)}", flush=True)


if __name__ == "__main__":
    main()
