"""Topic 4, the networks compared on MNIST in PyTorch, and their parameter tables.

* ``mlp``: the fully connected network (全結合ネットワーク) of a university lecture's
  PyTorch MNIST code, 784-784-784-10 with
  sigmoid, or the same with ReLU. It sees a digit as a flat list of 784 numbers.
* ``plain_cnn``: that lecture's convolutional network (畳み込みニューラルネットワーク),
  conv 1->32 3x3, conv 32->64 3x3, max-pool 2, fc 9216->128->10.
* ``fast_cnn``: a CNN built to train to 99 % test accuracy within a minute on two CPU cores
  (see bench/mnist.py): the convolutions work on pooled, smaller maps, batch normalization lets
  a large learning rate train it in a few epochs.

Every model is an ``nn.Sequential`` that maps (N, 1, 28, 28) images to (N, 10) log-probabilities
(``LogSoftmax`` last, so the loss is ``F.nll_loss`` as in that code, or equivalently
``nn.NLLLoss``). ``summary(model)`` gives the layer table Keras prints: layer, output shape,
parameters.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SHAPE = (1, 28, 28)
NUM_CLASSES = 10

_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(activation: str = "sigmoid", hidden: tuple[int, ...] = (784, 784)) -> nn.Sequential:
    """Flatten -> [Linear -> activation] per hidden layer -> Linear(10) -> LogSoftmax.

    The defaults are the lecture's network: 784 -> 784 -> 784 -> 10 with sigmoid, 1,238,730
    parameters. activation: "sigmoid", "relu" or "tanh".
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = [nn.Flatten()]
    width = IMAGE_SHAPE[1] * IMAGE_SHAPE[2]
    for size in hidden:
        layers += [nn.Linear(width, size), _ACTIVATIONS[activation]()]
        width = size
    layers += [nn.Linear(width, NUM_CLASSES), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)


def plain_cnn() -> nn.Sequential:
    """The lecture's CNN (no padding, no batch norm): 28x28x1 -> conv 3x3 -> 26x26x32 -> conv
    3x3 -> 24x24x64 -> max-pool -> 12x12x64 = 9216 -> 128 -> 10; 1,199,882 parameters, 98 % of
    them in the first Linear."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(12 * 12 * 64, 128), nn.ReLU(),
        nn.Linear(128, NUM_CLASSES),
        nn.LogSoftmax(dim=1),
    )


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    """conv 3x3 (same size) -> batch norm -> ReLU -> max-pool 2: halves the map."""
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(), nn.MaxPool2d(2)]


def fast_cnn(width: int = 16) -> nn.Sequential:
    """A CNN for CPUs: two conv blocks (28 -> 14 -> 7), then a small classifier.

    Pooling right after each convolution keeps the maps small, so most of the arithmetic runs
    on 14x14 and 7x7 maps; batch normalization (バッチ正規化) allows a large learning rate.
    width: channels of the first block (the second has twice as many).
    """
    return nn.Sequential(
        *_conv_block(1, width),
        *_conv_block(width, 2 * width),
        nn.Flatten(),
        nn.Linear(2 * width * 7 * 7, 128), nn.ReLU(),
        nn.Linear(128, NUM_CLASSES),
        nn.LogSoftmax(dim=1),
    )


def large_cnn(hidden: int = 352, dropout: float = 0.0, batch_norm: bool = False) -> nn.Sequential:
    """``plain_cnn`` widened to 3.27 million parameters, for topic 5 (regularization).

    conv 3x3 1->32 -> conv 3x3 32->64 -> max-pool 2 -> 9216 -> Linear(hidden) -> 10. With the
    default hidden=352 it has 3,266,730 parameters, about as many as the overfitting network of
    a university report (3,321,410): far too many for a hundred training images, which is the point.
    dropout: the probability of zeroing an input of each Linear layer (0: no Dropout layers).
    batch_norm: BatchNorm2d after each convolution (its convolutions then drop their bias).
    """
    def conv(cin, cout):
        block = [nn.Conv2d(cin, cout, 3, bias=not batch_norm)]
        return block + ([nn.BatchNorm2d(cout)] if batch_norm else []) + [nn.ReLU()]

    def drop():
        return [nn.Dropout(dropout)] if dropout else []

    return nn.Sequential(
        *conv(1, 32), *conv(32, 64), nn.MaxPool2d(2), nn.Flatten(),
        *drop(), nn.Linear(12 * 12 * 64, hidden), nn.ReLU(),
        *drop(), nn.Linear(hidden, NUM_CLASSES),
        nn.LogSoftmax(dim=1),
    )


MODELS = {"mlp_sigmoid": mlp, "mlp_relu": lambda: mlp("relu"), "plain_cnn": plain_cnn,
          "fast_cnn": fast_cnn, "large_cnn": large_cnn}


def summary(model: nn.Module, input_shape: tuple[int, ...] = IMAGE_SHAPE) -> list[dict]:
    """One row per leaf layer: {"layer", "output", "parameters", "trainable"}.

    Runs one zero image of ``input_shape`` through the model (in eval mode, without gradients,
    leaving the model's mode as it was) to record each layer's output shape; shapes exclude the
    batch axis, as in Keras' table. The caller prints it with ``format_summary``.
    """
    rows, hooks = [], []
    for name, module in model.named_modules():
        if list(module.children()):
            continue  # only leaves: the layers that compute something

        def record(module, _inputs, output, name=name):
            rows.append({
                "layer": f"{name} ({type(module).__name__})",
                "output": tuple(output.shape[1:]),
                "parameters": sum(p.numel() for p in module.parameters()),
                "trainable": sum(p.numel() for p in module.parameters() if p.requires_grad),
            })
        hooks.append(module.register_forward_hook(record))
    was_training = model.training
    try:
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return rows


def format_summary(rows: list[dict]) -> str:
    """The rows of ``summary`` as a text table with totals, like Keras' model.summary()."""
    width = max([len(row["layer"]) for row in rows] + [5]) + 2
    lines = [f"{'layer':<{width}}{'output shape':>18}{'parameters':>14}", "-" * (width + 32)]
    for row in rows:
        shape = "x".join(map(str, row["output"]))
        lines.append(f"{row['layer']:<{width}}{shape:>18}{row['parameters']:>14,}")
    total = sum(row["parameters"] for row in rows)
    trainable = sum(row["trainable"] for row in rows)
    lines += ["-" * (width + 32), f"total parameters: {total:,}",
              f"trainable parameters: {trainable:,}",
              f"non-trainable parameters: {total - trainable:,}"]
    return "\n".join(lines)
