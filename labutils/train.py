"""The training loop every PyTorch notebook shares: seeds, device, fit/evaluate, history.

    set_seed(0)
    history = fit(model, train_loader, val_loader, optimizer=opt, num_epochs=5)
    plots.learning_curves(history)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from labutils.i18n import say


def set_seed(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given, else the first available of cuda, mps, cpu."""
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class History:
    """Per-epoch metrics; ``val_*`` stay empty when no validation loader is given."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)

    @property
    def num_epochs(self) -> int:
        return len(self.train_loss)

    def record(self, train_metrics: tuple[float, float], val_metrics=None) -> None:
        """Append one epoch's (loss, accuracy) on the training and, if given, validation data."""
        self.train_loss.append(train_metrics[0])
        self.train_acc.append(train_metrics[1])
        if val_metrics is not None:
            self.val_loss.append(val_metrics[0])
            self.val_acc.append(val_metrics[1])

    def best_epoch(self) -> int:
        """Index of the epoch with the lowest validation loss (training loss if no validation)."""
        losses = self.val_loss or self.train_loss
        return int(np.argmin(losses))


def _count_correct(outputs: torch.Tensor, labels: torch.Tensor) -> int:
    """How many rows of ``outputs`` (N, classes) have their largest score at the label."""
    return int((outputs.argmax(dim=1) == labels).sum())


@torch.no_grad()
def evaluate(model: nn.Module, loader, loss_fn=None, device=None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no gradients)."""
    device = device or next(model.parameters()).device
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        outputs = model(inputs)
        total_loss += loss_fn(outputs, labels).item() * len(labels)
        correct += _count_correct(outputs, labels)
        count += len(labels)
    model.train(was_training)
    return total_loss / max(count, 1), correct / max(count, 1)


def train_one_epoch(model, loader, optimizer, loss_fn, device, bar=None,
                    scheduler=None) -> tuple[float, float]:
    """One pass over ``loader`` with parameter updates; returns mean loss and accuracy.

    ``scheduler`` (a torch learning-rate scheduler) is stepped after every batch."""
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.item() * len(labels)
        correct += _count_correct(outputs.detach(), labels)
        count += len(labels)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{total_loss / count:.3f}", acc=f"{correct / count:.3f}")
    return total_loss / max(count, 1), correct / max(count, 1)


def fit(model: nn.Module, train_loader, val_loader=None, *, optimizer, num_epochs: int,
        loss_fn=None, device=None, progress: bool = True, on_epoch_end=None,
        scheduler=None) -> History:
    """Train for ``num_epochs`` and return the :class:`History`.

    ``scheduler``: a learning-rate scheduler stepped after every batch (e.g. OneCycleLR with
    ``total_steps = num_epochs * len(train_loader)``).

    ``on_epoch_end(epoch, history)`` may return True to stop early (see early stopping in 05).
    """
    device = get_device(device) if not isinstance(device, torch.device) else device
    model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    history = History()
    bar = tqdm(total=num_epochs * len(train_loader), desc=say("training", "学習"),
               disable=not progress)
    for epoch in range(num_epochs):
        bar.set_description(say("epoch {n}/{of}", "エポック {n}/{of}", n=epoch + 1, of=num_epochs))
        metrics = train_one_epoch(model, train_loader, optimizer, loss_fn, device, bar, scheduler)
        val_metrics = None if val_loader is None else evaluate(model, val_loader, loss_fn, device)
        history.record(metrics, val_metrics)
        if on_epoch_end is not None and on_epoch_end(epoch, history):
            break
    bar.close()
    return history


@torch.no_grad()
def predict(model: nn.Module, loader, device=None) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, predictions)`` as integer arrays over ``loader``, e.g. for a confusion matrix."""
    device = device or next(model.parameters()).device
    model.eval()
    labels_seen, predictions = [], []
    for inputs, labels in loader:
        labels_seen.append(labels.numpy())
        predictions.append(model(inputs.to(device)).argmax(dim=1).cpu().numpy())
    return np.concatenate(labels_seen), np.concatenate(predictions)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (only those with ``requires_grad`` when ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --- the same loop for the NumPy networks of topics 2 and 3 ---------------------------------

def evaluate_numpy(net, x, t, batch_size: int = 500) -> tuple[float, float]:
    """Mean loss and accuracy of a NumPy network (``loss``/``accuracy`` methods), batch by batch."""
    loss_sum, correct = 0.0, 0.0
    for start in range(0, len(x), batch_size):
        xb, tb = x[start:start + batch_size], t[start:start + batch_size]
        loss_sum += float(net.loss(xb, tb)) * len(xb)
        correct += float(net.accuracy(xb, tb)) * len(xb)
    return loss_sum / len(x), correct / len(x)


def fit_numpy(net, optimizer, x, t, x_val=None, t_val=None, *, num_epochs: int,
              batch_size: int = 100, seed: int = 0, progress: bool = True,
              on_epoch_end=None) -> History:
    """Mini-batch training of ``backprop.MultiLayerNet`` or ``conv.SimpleConvNet``.

    Each epoch visits every sample of (x, t) once, in a seeded random order; t holds integer
    labels. The net needs ``params``, ``gradient(x, t)``, ``loss``, ``accuracy`` and a
    ``last_layer`` (SoftmaxWithLoss) that keeps the batch's ``loss`` and probabilities ``y``
    after ``gradient``: the training metrics are read from it, not from a second forward pass.
    ``on_epoch_end(epoch, history)`` may return True to stop early, as in :func:`fit`.
    """
    rng = np.random.default_rng(seed)
    history = History()
    num_batches = -(-len(x) // batch_size)
    bar = tqdm(total=num_epochs * num_batches, desc=say("training", "学習"), disable=not progress)
    for epoch in range(num_epochs):
        bar.set_description(say("epoch {n}/{of}", "エポック {n}/{of}", n=epoch + 1, of=num_epochs))
        order, loss_sum, correct = rng.permutation(len(x)), 0.0, 0
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            optimizer.update(net.params, net.gradient(x[batch], t[batch]))
            loss_sum += float(net.last_layer.loss) * len(batch)
            correct += int(np.sum(net.last_layer.y.argmax(axis=1) == t[batch]))
            bar.update(1)
            bar.set_postfix(loss=f"{float(net.last_layer.loss):.3f}")
        val_metrics = None if x_val is None else evaluate_numpy(net, x_val, t_val)
        history.record((loss_sum / len(x), correct / len(x)), val_metrics)
        if on_epoch_end is not None and on_epoch_end(epoch, history):
            break
    bar.close()
    return history
