"""Figures shared by the notebooks: learning curves, confusion matrices, image and filter grids.

Every function returns the matplotlib ``Figure`` so a notebook can show it and a test can check it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def learning_curves(history, title: str | None = None):
    """Loss and accuracy per epoch, training beside validation, from a ``train.History``."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = np.arange(1, history.num_epochs + 1)
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "acc", "accuracy")):
        ax.plot(epochs, getattr(history, f"train_{key}"), "o-", label="train")
        val = getattr(history, f"val_{key}")
        if val:
            ax.plot(epochs[: len(val)], val, "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_counts(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Matrix whose row i, column j counts items of true class i predicted as j."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    num_classes = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def confusion_matrix(y_true, y_pred, class_names=None, title: str = "confusion matrix"):
    """Heat map of :func:`confusion_counts` with the count written in every cell."""
    names = list(class_names) if class_names is not None else None
    counts = confusion_counts(y_true, y_pred, len(names) if names else None)
    fig, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ticks = np.arange(len(counts))
    ax.set_xticks(ticks, names or ticks, rotation=45 if names else 0,
                  ha="right" if names else "center")
    ax.set_yticks(ticks, names or ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = counts.max() / 2
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, n, ha="center", va="center", fontsize=8,
                color="white" if n > threshold else "black")
    ax.set_title(f"{title} (accuracy {np.trace(counts) / max(counts.sum(), 1):.1%})")
    fig.tight_layout()
    return fig


def image_grid(images, labels=None, ncols: int = 8, cmap: str = "gray", title: str | None = None):
    """Show images of shape (N, H, W), (N, 1, H, W) or (N, H, W, 3) in a grid with labels."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] in (1, 3):  # channels first → last
        images = np.moveaxis(images, 1, -1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.4 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k], cmap=cmap if images[k].ndim == 2 else None)
            if labels is not None:
                ax.set_title(str(labels[k]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def filter_grid(weights, ncols: int = 8, title: str | None = None):
    """Show convolution filters of shape (F, C, kh, kw): the first channel, each scaled alone."""
    weights = np.asarray(weights)[:, 0]
    low = weights.min(axis=(1, 2), keepdims=True)
    span = np.ptp(weights, axis=(1, 2), keepdims=True)
    return image_grid((weights - low) / np.where(span == 0, 1, span), ncols=ncols, title=title)
