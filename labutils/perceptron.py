"""Topic 1: course/01_perceptron.ipynb, source/01_perceptron/, tests/test_perceptron.py

The perceptron (パーセプトロン): gates by hand, XOR in two layers, the learning rule.

A perceptron fires (outputs 1) when the weighted sum of its inputs plus a bias is positive:

    y = step(a),   a = w1*x1 + w2*x2 + b,   step(a) = 1 if a > 0 else 0

(b is a bias and a the weighted sum before the activation, in every topic of the course.)

AND, NAND and OR are each one perceptron with hand-picked (w1, w2, b). XOR is not: no straight
line separates its 1s from its 0s (see :func:`xor_has_no_line`, and the figure
``labutils.plots.xor_no_line``), but two layers do it:
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


def step(a):
    """Step activation (ステップ関数): 1 where a > 0, else 0; works on scalars and arrays."""
    return (np.asarray(a) > 0).astype(int)


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
    num_epochs: int  # epochs run: the first without a mistake, or max_epochs
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
