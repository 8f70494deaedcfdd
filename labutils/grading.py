"""Check helpers for the assignments' test cells: assertions whose messages say what is wrong.

Tests compute their expected values from the reference implementations at test time; these
helpers only compare and explain. Hidden tests live in source/ notebooks, never here.
"""

from __future__ import annotations

import numpy as np


def assert_shape(actual, expected_shape, what: str) -> None:
    """Fail with both shapes named (and a hint when the shape is merely transposed)."""
    shape = np.shape(actual)
    if tuple(shape) == tuple(expected_shape):
        return
    hint = " (it looks transposed)" if tuple(shape[::-1]) == tuple(expected_shape) else ""
    raise AssertionError(f"{what} has shape {tuple(shape)}, expected {tuple(expected_shape)}{hint}")


def assert_close(actual, expected, what: str, rtol: float = 1e-6, atol: float = 1e-8,
                 hint: str = "") -> None:
    """Fail unless ``actual`` matches ``expected`` in shape and value, naming the worst entry."""
    if actual is None:
        raise AssertionError(f"{what} is None: did the function forget to return its result?")
    assert_shape(actual, np.shape(expected), what)
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(actual)):
        raise AssertionError(f"{what} contains nan or inf{'; ' + hint if hint else ''}")
    gap = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    if np.all(gap <= 0):
        return
    worst = np.unravel_index(np.argmax(gap), gap.shape) if gap.ndim else ()
    message = (f"{what} is wrong at index {tuple(int(i) for i in worst)}: got {actual[worst]:.6g}, "
               f"expected {expected[worst]:.6g}")
    raise AssertionError(message + (f". {hint}" if hint else ""))
