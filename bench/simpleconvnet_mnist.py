"""Train labutils.conv.SimpleConvNet (NumPy only) on the full MNIST with Adam, as seed 001 does.

    python bench/simpleconvnet_mnist.py                  # 60,000 / 10,000 images
    python bench/simpleconvnet_mnist.py --quick          # smoke run: 3,000 / 1,000, one epoch
    python bench/simpleconvnet_mnist.py --data /some/root --epochs 3

Conv(30 filters 5x5) - ReLU - MaxPool 2x2 - Affine(100) - ReLU - Affine(10) - softmax, float32,
Adam(lr=0.001), batches of 100. Prints the time and the test accuracy of every epoch.
Target: >= 98.5 % test accuracy within 5 minutes of wall time on 2 cores.

Data: torchvision's own MNIST class on the raw IDX files <data>/MNIST/raw/*-ubyte (never
downloads; stage them with `python -m labutils.data stage`). --data is that root (default:
labutils.data.data_root(), i.e. $LABUTILS_DATA or ./data); a path ending in MNIST/raw works too.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from labutils import backprop, conv, data

TARGET_ACCURACY, TARGET_SECONDS = 0.985, 300


def load_mnist(root, train):
    """Images as float32 (N, 1, 28, 28) in [0, 1] and labels as int64 (N,)."""
    from torchvision.datasets import MNIST
    dataset = MNIST(root=str(root), train=train, download=False)
    images = dataset.data.numpy().astype(np.float32)[:, None] / 255.0
    return images, dataset.targets.numpy().astype(np.int64)


def data_root(path):
    """The folder holding MNIST/raw, given it or the raw folder itself."""
    path = Path(path) if path else data.data_root()
    return path.parent.parent if path.parts[-2:] == ("MNIST", "raw") else path


def train_epoch(net, optimizer, x, t, batch_size, rng, bar):
    """One pass over (x, t) in shuffled batches; returns the mean training loss."""
    order = rng.permutation(len(x))
    losses = []
    for start in range(0, len(x), batch_size):
        batch = order[start:start + batch_size]
        grads = net.gradient(x[batch], t[batch])  # forward (sets the loss) and backward
        optimizer.update(net.params, grads)
        losses.append(net.last_layer.loss)
        bar.update(len(batch))
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
    return float(np.mean(losses))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data root holding MNIST/raw")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--weight-init", default="he", help='"he", "xavier" or a number')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="3,000 training images, 1 epoch")
    args = parser.parse_args()

    root = data.verify("MNIST", data_root(args.data))
    x_train, t_train = load_mnist(root, train=True)
    x_test, t_test = load_mnist(root, train=False)
    epochs = args.epochs
    if args.quick:
        x_train, t_train = x_train[:3000], t_train[:3000]
        x_test, t_test = x_test[:1000], t_test[:1000]
        epochs = 1
    init = args.weight_init if args.weight_init in ("he", "xavier") else float(args.weight_init)
    net = conv.SimpleConvNet(weight_init_std=init, seed=args.seed)
    optimizer = backprop.Adam(lr=args.lr)
    rng = np.random.default_rng(args.seed)
    print(f"SimpleConvNet on MNIST: {len(x_train)} training / {len(x_test)} test images, "
          f"{epochs} epochs, Adam lr={args.lr}, batch {args.batch_size}, init {args.weight_init}")

    start = time.perf_counter()
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        with tqdm(total=len(x_train), desc=f"epoch {epoch}/{epochs}", unit="img",
                  leave=False) as bar:
            loss = train_epoch(net, optimizer, x_train, t_train, args.batch_size, rng, bar)
        train_seconds = time.perf_counter() - epoch_start
        accuracy = net.accuracy(x_test, t_test, batch_size=500)
        test_seconds = time.perf_counter() - epoch_start - train_seconds
        print(f"epoch {epoch}: train loss {loss:.4f}  test accuracy {accuracy:.2%}  "
              f"train {train_seconds:.1f} s + test {test_seconds:.1f} s  "
              f"elapsed {time.perf_counter() - start:.1f} s", flush=True)
    total = time.perf_counter() - start
    met = accuracy >= TARGET_ACCURACY and total <= TARGET_SECONDS
    print(f"final test accuracy {accuracy:.2%} after {total:.1f} s "
          f"({total / epochs:.1f} s per epoch); target >= {TARGET_ACCURACY:.1%} within "
          f"{TARGET_SECONDS} s: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
