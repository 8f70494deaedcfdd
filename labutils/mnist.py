"""Topic 4: course/04_mnist.ipynb, source/04_mnist/, tests/test_mnist.py

The networks compared on MNIST in PyTorch, and their parameter tables.

* ``mlp``: the fully connected network (全結合ネットワーク) of a university lecture's
  PyTorch MNIST code, 784-784-784-10 with
  sigmoid, or the same with ReLU. It sees a digit as a flat list of 784 numbers.
* ``plain_cnn``: that lecture's convolutional network (畳み込みニューラルネットワーク),
  conv 1->32 3x3, conv 32->64 3x3, max-pool 2, fc 9216->128->10.
* ``fast_cnn``: a CNN built to train to 99 % test accuracy within a minute on two CPU cores
  (see bench/mnist.py): the convolutions work on pooled, smaller maps, batch normalization lets
  a large learning rate train it in a few epochs.
* ``keras_report_cnn``: the overfitting network of a university report and its dropout and
  batch-norm variants; ``keras_counts`` counts parameters as Keras does, for comparing with
  the report's tables (``REPORT_KERAS_COUNTS``).

Every model is an ``nn.Sequential`` that maps (N, 1, 28, 28) images to (N, 10) log-probabilities
(``LogSoftmax`` last, so the loss is ``F.nll_loss`` as in that code, or equivalently
``nn.NLLLoss``). ``summary(model)`` gives the layer table Keras prints: layer, output shape,
parameters.
"""

from __future__ import annotations

import unicodedata

import torch
from torch import nn

from labutils.i18n import say

IMAGE_SHAPE = (1, 28, 28)
NUM_CLASSES = 10

_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(activation: str = "sigmoid", hidden_sizes: tuple[int, ...] = (784, 784)) -> nn.Sequential:
    """Flatten -> [Linear -> activation] per hidden layer -> Linear(10) -> LogSoftmax.

    The defaults are the lecture's network: 784 -> 784 -> 784 -> 10 with sigmoid, 1,238,730
    parameters. activation: "sigmoid", "relu" or "tanh".
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = [nn.Flatten()]
    width = IMAGE_SHAPE[1] * IMAGE_SHAPE[2]
    for size in hidden_sizes:
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


def large_cnn(hidden_size: int = 352, dropout: float = 0.0,
              batch_norm: bool = False) -> nn.Sequential:
    """``plain_cnn`` widened to 3.27 million parameters, for topic 5 (regularization).

    conv 3x3 1->32 -> conv 3x3 32->64 -> max-pool 2 -> 9216 -> Linear(hidden_size) -> 10.
    With the default hidden_size=352 it has 3,266,730 parameters, about as many as the
    overfitting network of a university report (3,321,410): far too many for a hundred
    training images, which is the point.
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
        *drop(), nn.Linear(12 * 12 * 64, hidden_size), nn.ReLU(),
        *drop(), nn.Linear(hidden_size, NUM_CLASSES),
        nn.LogSoftmax(dim=1),
    )


# The three networks of a university report that trained on about 110 photos of two classes
# (128x128 colour) and printed Keras' parameter counts: (total, non-trainable).
REPORT_KERAS_COUNTS = {
    "overfitting": (3_321_410, 0),
    "dropout": (3_304_898, 0),
    "batch norm": (3_306_306, 704),  # 4 numbers per channel of batch norm, 2 of them not learnt
}


def keras_report_cnn(variant: str = "overfitting") -> nn.Sequential:
    """The report's Keras CNN in PyTorch, for 3x128x128 photos and 2 classes.

    Three blocks conv 3x3 (no padding) -> max-pool 2 with 32, 64, 128 channels leave
    128 x 14 x 14 = 25,088 features. Then, by ``variant``:
    "overfitting": Dense(128) -> Dense(128) -> Dense(2);
    "dropout": Dropout -> Dense(128) -> Dropout -> Dense(2);
    "batch norm": batch norm after each pooling and after Dense(128), then Dense(2).
    """
    if variant not in REPORT_KERAS_COUNTS:
        raise ValueError(f"variant must be one of {sorted(REPORT_KERAS_COUNTS)}, got {variant!r}")
    norm = variant == "batch norm"
    layers: list[nn.Module] = []
    for cin, cout in [(3, 32), (32, 64), (64, 128)]:
        layers += [nn.Conv2d(cin, cout, 3), nn.MaxPool2d(2)]
        layers += [nn.BatchNorm2d(cout), nn.ReLU()] if norm else [nn.ReLU()]
    layers.append(nn.Flatten())
    features = 128 * 14 * 14
    if variant == "overfitting":
        layers += [nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU()]
    elif variant == "dropout":
        layers += [nn.Dropout(0.5), nn.Linear(features, 128), nn.ReLU(), nn.Dropout(0.5)]
    else:
        layers += [nn.Linear(features, 128), nn.BatchNorm1d(128), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(128, 2))


def keras_counts(model: nn.Module) -> dict[str, int]:
    """Parameter counts as Keras' model.summary() prints them: {"total", "non_trainable"}.

    Keras counts a batch-norm layer's running mean and variance as non-trainable parameters;
    PyTorch keeps them as buffers, outside ``model.parameters()``. So the Keras total is
    PyTorch's parameters plus the running statistics of every batch-norm layer (PyTorch's
    ``num_batches_tracked`` counter has no Keras counterpart and is left out).
    """
    running = sum(m.running_mean.numel() + m.running_var.numel() for m in model.modules()
                  if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return {"total": sum(p.numel() for p in model.parameters()) + running,
            "non_trainable": frozen + running}


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


def _fit(text: str, columns: int, right: bool = False) -> str:
    """``text`` padded to ``columns`` on screen, a Japanese character taking two."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    padding = " " * max(0, columns - len(text) - wide)
    return padding + text if right else text + padding


def format_summary(rows: list[dict]) -> str:
    """The rows of ``summary`` as a text table with totals, like Keras' model.summary()."""
    width = max([len(row["layer"]) for row in rows] + [5]) + 2
    lines = [_fit(say("layer", "層"), width) + _fit(say("output shape", "出力の形"), 18, True)
             + _fit(say("parameters", "パラメータ数"), 14, True), "-" * (width + 32)]
    for row in rows:
        shape = "x".join(map(str, row["output"]))
        lines.append(f"{row['layer']:<{width}}{shape:>18}{row['parameters']:>14,}")
    total = sum(row["parameters"] for row in rows)
    trainable = sum(row["trainable"] for row in rows)
    lines += ["-" * (width + 32),
              say("total parameters: {n:,}", "パラメータの総数: {n:,}", n=total),
              say("trainable parameters: {n:,}", "学習するパラメータ: {n:,}", n=trainable),
              say("non-trainable parameters: {n:,}", "学習しないパラメータ: {n:,}",
                  n=total - trainable)]
    return "\n".join(lines)
