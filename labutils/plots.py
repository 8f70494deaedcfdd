"""Every figure of the course: learning curves, confusion matrices, image and filter grids, and
the drawings of the topics (perceptron regions, optimizer paths, convolution grids and im2col).

Japanese labels render in IPAex Gothic, a font shipped by the matplotlib-fontja package, in
JupyterLab and headless alike (importing this module sets it up).

The course-wide figures return the matplotlib ``Figure``; the topic drawings draw on the
matplotlib ``Axes`` they are given and return it, so a notebook can lay several out side by
side. Either way a test can check what was drawn. The topic modules import no matplotlib.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib_fontja  # noqa: F401 (registers IPAex Gothic, the Japanese font it ships)
import numpy as np

from labutils import backprop, conv, perceptron
from labutils.i18n import say

# matplotlib_fontja makes IPAex Gothic the only font; English keeps matplotlib's default font
# (DejaVu Sans) and every character it lacks (kana, kanji) falls back to IPAex Gothic.
JAPANESE_FONT = "IPAexGothic"


def use_japanese_font() -> None:
    """Figures write Japanese in IPAex Gothic and everything else in the default sans-serif."""
    plt.rcParams["font.family"] = ["sans-serif", JAPANESE_FONT]


use_japanese_font()


def learning_curves(history, title: str | None = None):
    """Loss and accuracy per epoch, training beside validation, from a ``train.History``."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = np.arange(1, history.num_epochs + 1)
    for ax, key, label in ((ax_loss, "loss", say("loss", "損失")),
                           (ax_acc, "acc", say("accuracy", "正解率"))):
        ax.plot(epochs, getattr(history, f"train_{key}"), "o-", label=say("train", "訓練データ"))
        val = getattr(history, f"val_{key}")
        if val:
            ax.plot(epochs[: len(val)], val, "s--", label=say("validation", "検証データ"))
        ax.set_xlabel(say("epoch", "エポック"))
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


def confusion_matrix(y_true, y_pred, class_names=None, title: str | None = None):
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
    ax.set_xlabel(say("predicted", "予測"))
    ax.set_ylabel(say("true", "正解"))
    threshold = counts.max() / 2
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, n, ha="center", va="center", fontsize=8,
                color="white" if n > threshold else "black")
    ax.set_title(say("{title} (accuracy {acc:.1%})", "{title} (正解率 {acc:.1%})",
                     title=title or say("confusion matrix", "混同行列"),
                     acc=np.trace(counts) / max(counts.sum(), 1)))
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


# ---------------------------------------------------------------- topic 1: the perceptron

def _line(ax, w1: float, w2: float, b: float, style: str = "k-", label=None):
    """Draw w1*x1 + w2*x2 + b = 0 across the plotting window."""
    grid = np.linspace(-0.5, 1.5, 2)
    if w2 != 0:
        ax.plot(grid, -(w1 * grid + b) / w2, style, lw=1.5, label=label)
    elif w1 != 0:
        ax.axvline(-b / w1, color=style[0], lw=1.5, label=label)


def plot_regions(fires, targets=None, lines=(), ax=None, title: str = ""):
    """Shade where ``fires(x1, x2)`` is 1, draw ``lines`` (w1, w2, b, style, label), mark inputs.

    ``targets`` (four 0/1 values) colours the points by the wanted output: filled = 1.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.6))
    g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 201), np.linspace(-0.5, 1.5, 201))
    ax.contourf(g1, g2, fires(g1, g2), levels=[-0.5, 0.5, 1.5], colors=["#f2f2f2", "#cfe3f7"])
    for w1, w2, b, style, label in lines:
        _line(ax, w1, w2, b, style, label)
    inputs = perceptron.INPUTS
    wanted = np.zeros(len(inputs), dtype=int) if targets is None else np.asarray(targets)
    for (x1, x2), y in zip(inputs, wanted):
        ax.scatter(x1, x2, s=120, edgecolors="k", zorder=3, c="#1f77b4" if y else "white")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    ax.set_title(title, fontsize=10)
    if any(label for *_, label in lines):
        ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_decision(w1: float, w2: float, b: float, targets=None, ax=None, title: str = ""):
    """One perceptron: its line w1*x1 + w2*x2 + b = 0 and the side where it fires."""
    return plot_regions(lambda x1, x2: perceptron.perceptron(x1, x2, w1, w2, b), targets,
                        [(w1, w2, b, "k-", None)], ax,
                        title or f"w1={w1:.2f}, w2={w2:.2f}, b={b:.2f}")


def xor_no_line(attempts):
    """XOR against straight lines: one panel per attempted (w1, w2, b), the points that line
    gets wrong crossed out in red, and a last panel with XOR's two diagonals, which share
    their midpoint (0.5, 0.5). Returns the Figure."""
    wanted = perceptron.TARGETS["XOR"]
    fig, axes = plt.subplots(1, len(attempts) + 1, figsize=(3.3 * (len(attempts) + 1), 3.5))
    for ax, (w1, w2, b) in zip(axes, attempts):
        plot_decision(w1, w2, b, targets=wanted, ax=ax)
        fired = perceptron.perceptron(*perceptron.INPUTS.T, w1, w2, b)
        wrong = perceptron.INPUTS[fired != wanted]
        ax.scatter(*wrong.T, s=260, marker="x", c="red", zorder=4)
        ax.set_title(say("b={b:+.1f}, w=({w1:+.1f}, {w2:+.1f}): {n} wrong",
                         "b={b:+.1f}, w=({w1:+.1f}, {w2:+.1f}): {n} 点が誤り",
                         b=b, w1=w1, w2=w2, n=len(wrong)), fontsize=9)
    last = axes[-1]
    plot_regions(lambda x1, x2: np.zeros_like(x1), wanted, ax=last,
                 title=say("the two diagonals cross at (0.5, 0.5)",
                           "二本の対角線は (0.5, 0.5) で交わる"))
    last.plot([0, 1], [1, 0], "-", color="#1f77b4", lw=2,
              label=say("between the 1s", "1 の点を結ぶ"))
    last.plot([0, 1], [0, 1], "k--", lw=2, label=say("between the 0s", "0 の点を結ぶ"))
    last.scatter([0.5], [0.5], s=80, c="red", zorder=4)
    last.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- topic 2: optimizer paths

def plot_optimizer_paths(ax, paths, title=None, levels=(0.1, 0.3, 1, 2, 4, 8, 16, 32)):
    """Contour lines of ``backprop.valley`` and each path of ``paths`` on ax.

    paths: {name: array (steps + 1, 2)}, as ``backprop.optimizer_paths`` gives them. Returns ax.
    Each optimizer keeps one colour in every figure; the cross marks the minimum.
    """
    X, Y = np.meshgrid(np.linspace(-10, 10, 201), np.linspace(-5, 5, 101))
    ax.contour(X, Y, backprop.valley(X, Y), levels=list(levels), colors="0.7", linewidths=0.8)
    for name, path in paths.items():
        known = list(backprop.OPTIMIZERS)
        colour = f"C{known.index(name)}" if name in known else None
        ax.plot(path[:, 0], path[:, 1], "o-", ms=3, lw=1.2, color=colour, label=name)
    ax.plot(0, 0, "k+", ms=12, mew=2)
    ax.set(xlim=(-10, 10), ylim=(-5, 5), xlabel="x", ylabel="y", title=title)
    return ax


# ---------------------------------------------------------------- topic 3: grids and im2col

def _outline(ax, top, left, height, width, **style):
    """Draw the border of cells [top, top+height) x [left, left+width) of an imshow grid."""
    x0, x1, y0, y1 = left - 0.5, left + width - 0.5, top - 0.5, top + height - 0.5
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], **style)


def plot_grid(ax, values, title=None, boxes=(), numbers=True, fmt="{:g}", cmap="Greys",
              vmin=None, vmax=None, box_colour="C3"):
    """A 2-D array as a grid of cells on ax, each with its number written in it.

    boxes: (top, left, height, width) rectangles of cells to outline, e.g. the patch a filter
    covers. numbers=False leaves the cells blank (for large arrays). Returns ax.
    """
    values = np.asarray(values, dtype=float)
    low = np.nanmin(values) if vmin is None else vmin
    high = np.nanmax(values) if vmax is None else vmax
    image = ax.imshow(values, cmap=cmap, vmin=low, vmax=high,
                      aspect="equal" if numbers else "auto")
    if numbers:
        size = 11 if max(values.shape) <= 8 else 8
        for (i, j), value in np.ndenumerate(values):
            red, green, blue, _ = image.cmap(image.norm(value))
            dark = 0.3 * red + 0.6 * green + 0.1 * blue < 0.5  # white text on dark cells
            ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")
    rows, cols = values.shape
    ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.75", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    for box in boxes:
        _outline(ax, *box, color=box_colour, linewidth=3)
    if title:
        ax.set_title(title)
    return ax


def plot_im2col(ax_input, ax_col, image, fh, fw, stride=1, pad=0, row=0):
    """Which patch of a padded 2-D image becomes row `row` of im2col, drawn on two Axes.

    ax_input: the padded image, the original pixels inside a dashed frame, the patch of that row
    outlined; ax_col: the im2col matrix (OH*OW rows, fh*fw columns) with the row outlined.
    A row past the end is clipped to the last one. Raises ValueError if the sizes do not fit.
    Returns (row, (i, j)): the row drawn and its output position.
    """
    image = np.asarray(image, dtype=float)
    x = image[None, None]
    OH = conv.conv_output_size(image.shape[0], fh, stride, pad)
    OW = conv.conv_output_size(image.shape[1], fw, stride, pad)
    row = int(min(max(row, 0), OH * OW - 1))
    i, j = divmod(row, OW)
    plot_grid(ax_input, np.pad(image, pad), boxes=[(i * stride, j * stride, fh, fw)],
              title=say("input padded by {pad}: patch at ({i}, {j})",
                        "パディング {pad} の入力: ({i}, {j}) の窓", pad=pad, i=i * stride,
                        j=j * stride))
    if pad:
        _outline(ax_input, pad, pad, *image.shape, color="C0", linewidth=1.5, linestyle="--")
    col = conv.im2col(x, fh, fw, stride, pad)
    plot_grid(ax_col, col, boxes=[(row, 0, 1, fh * fw)], numbers=col.shape[0] <= 16,
              title=say("im2col: {OH}x{OW} = {rows} rows x {cols} columns\n"
                        "row {row} = output position ({i}, {j})",
                        "im2col: {OH}x{OW} = {rows} 行 x {cols} 列\n"
                        "{row} 行目 = 出力の位置 ({i}, {j})",
                        OH=OH, OW=OW, rows=OH * OW, cols=fh * fw, row=row, i=i, j=j))
    return row, (i, j)
