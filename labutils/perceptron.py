"""Topic 1 — the perceptron (パーセプトロン): gates by hand, XOR in two layers, the learning rule.

A perceptron fires (outputs 1) when the weighted sum of its inputs plus a bias is positive:

    y = step(w1*x1 + w2*x2 + b),   step(h) = 1 if h > 0 else 0

AND, NAND and OR are each one perceptron with hand-picked (w1, w2, b). XOR is not: no straight
line separates its 1s from its 0s (see :func:`xor_has_no_line`), but two layers do it:
XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
TARGETS = {
    "AND": np.array([0, 0, 0, 1]),
    "NAND": np.array([1, 1, 1, 0]),
    "OR": np.array([0, 1, 1, 1]),
    "XOR": np.array([0, 1, 1, 0]),
}
# One choice of (w1, w2, b) per gate; any line that separates the same points works as well.
GATE_PARAMS = {
    "AND": (1.0, 1.0, -1.5),
    "NAND": (-1.0, -1.0, 1.5),
    "OR": (1.0, 1.0, -0.5),
}


def step(h):
    """Step activation (ステップ関数): 1 where h > 0, else 0; works on scalars and arrays."""
    return (np.asarray(h) > 0).astype(int)


def perceptron(x1, x2, w1: float, w2: float, b: float):
    """Output of one perceptron with weights (w1, w2) and bias b."""
    return step(w1 * np.asarray(x1) + w2 * np.asarray(x2) + b)


def AND(x1, x2):
    return perceptron(x1, x2, *GATE_PARAMS["AND"])


def NAND(x1, x2):
    return perceptron(x1, x2, *GATE_PARAMS["NAND"])


def OR(x1, x2):
    return perceptron(x1, x2, *GATE_PARAMS["OR"])


def XOR(x1, x2):
    """Two layers: the first computes NAND and OR side by side, the second ANDs them."""
    return AND(NAND(x1, x2), OR(x1, x2))


GATES = {"AND": AND, "NAND": NAND, "OR": OR, "XOR": XOR}


def truth_table(gate) -> np.ndarray:
    """Rows (x1, x2, y) of ``gate`` (a function of x1, x2) over the four binary inputs."""
    outputs = np.array([int(gate(x1, x2)) for x1, x2 in INPUTS])
    return np.column_stack([INPUTS, outputs])


def xor_has_no_line() -> str:
    """The four inequalities a single perceptron would need for XOR, and why they clash."""
    return ("XOR needs  b <= 0  (0,0 -> 0),  w2 + b > 0  (0,1 -> 1),  w1 + b > 0  (1,0 -> 1),  "
            "w1 + w2 + b <= 0  (1,1 -> 0).  Adding the middle two gives w1 + w2 + 2b > 0, so "
            "w1 + w2 + b > -b >= 0, contradicting the last one: no (w1, w2, b) exists.")


# --- the perceptron learning rule ------------------------------------------------------------

def perceptron_update(w: np.ndarray, b: float, x: np.ndarray, t: int, lr: float = 0.1):
    """One step of the rule  w ← w + η (t − y) x,  b ← b + η (t − y)  for one sample.

    Nothing changes when the perceptron already answers ``t``; returns new (w, b).
    """
    error = t - int(step(np.dot(w, x) + b))
    return w + lr * error * np.asarray(x, dtype=float), b + lr * error


@dataclass
class TrainResult:
    w: np.ndarray
    b: float
    converged: bool
    epochs: int
    errors_per_epoch: list[int] = field(default_factory=list)


def train_perceptron(X, t, lr: float = 0.1, max_epochs: int = 100, w0=None, b0: float = 0.0):
    """Apply :func:`perceptron_update` sample by sample until an epoch makes no mistake.

    By the perceptron convergence theorem this stops for linearly separable data (AND, OR,
    NAND); for XOR every epoch keeps at least one mistake, so it runs out of ``max_epochs``.
    """
    X, t = np.asarray(X, dtype=float), np.asarray(t)
    w = np.zeros(X.shape[1]) if w0 is None else np.asarray(w0, dtype=float).copy()
    b = float(b0)
    errors = []
    for epoch in range(1, max_epochs + 1):
        mistakes = 0
        for x, target in zip(X, t):
            mistakes += int(int(step(np.dot(w, x) + b)) != target)
            w, b = perceptron_update(w, b, x, target, lr)
        errors.append(mistakes)
        if mistakes == 0:
            return TrainResult(w, b, True, epoch, errors)
    return TrainResult(w, b, False, max_epochs, errors)


# --- pictures ------------------------------------------------------------------------------

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
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.6))
    g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 201), np.linspace(-0.5, 1.5, 201))
    ax.contourf(g1, g2, fires(g1, g2), levels=[-0.5, 0.5, 1.5], colors=["#f2f2f2", "#cfe3f7"])
    for w1, w2, b, style, label in lines:
        _line(ax, w1, w2, b, style, label)
    wanted = np.zeros(len(INPUTS), dtype=int) if targets is None else np.asarray(targets)
    for (x1, x2), y in zip(INPUTS, wanted):
        ax.scatter(x1, x2, s=120, edgecolors="k", zorder=3, c="#1f77b4" if y else "white")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    ax.set_title(title, fontsize=10)
    if any(label for *_, label in lines):
        ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_decision(w1: float, w2: float, b: float, targets=None, ax=None, title: str = ""):
    """One perceptron: its line w1*x1 + w2*x2 + b = 0 and the side where it fires."""
    return plot_regions(lambda x1, x2: perceptron(x1, x2, w1, w2, b), targets,
                        [(w1, w2, b, "k-", None)], ax,
                        title or f"w1={w1:.2f}, w2={w2:.2f}, b={b:.2f}")


def truth_table_html(w1: float, w2: float, b: float, targets) -> str:
    """The perceptron's outputs beside the wanted ones, as an HTML table marking each row."""
    outputs = perceptron(INPUTS[:, 0], INPUTS[:, 1], w1, w2, b)
    cells = ([x1, x2, y, t, "✓" if y == t else "✗"]
             for (x1, x2), y, t in zip(INPUTS, outputs, targets))
    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in cells)
    score = int(np.sum(outputs == np.asarray(targets)))
    return ("<table><tr><th>x1</th><th>x2</th><th>output</th><th>wanted</th><th></th></tr>"
            f"{rows}</table><p>{score}/4 rows right</p>")
