"""labutils.grading's NumPy-only checks: torch and scipy are found, in code and at import time.

Each "submission" is executed into a fresh namespace named __main__, as a notebook's cells are.
"""

import sys

import pytest

from conftest import run_as_cell
import torch  # noqa: F401  (imported, so that the tests see it restored afterwards)

from labutils import grading

SUBMISSION = '''
import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d
from torch import conv2d


def numpy_only(x):
    """Calls a helper of its own; mentions torch only here and in a comment."""
    return np.sum(x) + largest(x)  # torch would do this too


def largest(x):
    return np.max(x)


def uses_functional(x):
    return F.conv2d(x, x)


def imports_inside(x):
    import torch
    return torch.zeros(1)


def imports_from_inside(x):
    from torch import conv2d
    return conv2d(x, x)


def uses_scipy(x):
    return correlate2d(x, x)


def uses_a_torch_builtin(x):
    return conv2d(x, x)


def calls_a_torch_helper(x):
    return to_tensor(x)


def to_tensor(x):
    return torch.tensor(x)


def imports_lazily():
    import importlib
    return importlib.import_module("torch").zeros(1)


class Layer:
    def forward(self, x):
        return [F.relu(v) for v in x]  # inside a comprehension

    def backward(self, dout):
        return np.zeros_like(dout)


class NumpyLayer:
    def forward(self, x):
        return np.maximum(x, 0)
'''


@pytest.fixture(scope="module")
def submission():
    return run_as_cell(SUBMISSION)


def test_numpy_code_passes(submission):
    assert grading.forbidden_uses(submission["numpy_only"]) == []
    assert grading.forbidden_uses(submission["NumpyLayer"]) == []
    grading.assert_numpy_only(submission["numpy_only"], submission["NumpyLayer"])


@pytest.mark.parametrize("name, found", [
    ("uses_functional", "F (torch.nn.functional) in uses_functional"),
    ("imports_inside", "torch in imports_inside"),
    ("imports_from_inside", "torch.conv2d in imports_from_inside"),  # module.name
    ("uses_scipy", "correlate2d (scipy.signal._signaltools) in uses_scipy"),
    ("uses_a_torch_builtin", "conv2d (torch) in uses_a_torch_builtin"),
    ("calls_a_torch_helper", "torch in to_tensor"),
    ("Layer", "F (torch.nn.functional) in Layer.forward"),  # inside a comprehension
])
def test_torch_and_scipy_are_found_where_they_are_used(submission, name, found):
    assert grading.forbidden_uses(submission[name]) == [found]
    with pytest.raises(AssertionError, match=f"{name} uses .*NumPy only, without torch or scipy"):
        grading.assert_numpy_only(submission["numpy_only"], submission[name])


def test_numpy_only_blocks_imports_and_restores_them(submission):
    with pytest.raises(AssertionError, match="imports_lazily imports torch: write it with NumPy"):
        with grading.numpy_only("imports_lazily"):
            submission["imports_lazily"]()
    assert sys.modules["torch"].zeros(2).shape == (2,)  # torch is back for the tests
    with grading.numpy_only("numpy_only"):
        assert submission["numpy_only"](submission["np"].ones(3)) == 4.0


def test_numpy_only_lets_other_errors_through():
    with pytest.raises(ImportError, match="no_such_module"):
        with grading.numpy_only("code"):
            import no_such_module  # noqa: F401
    with pytest.raises(ZeroDivisionError):
        with grading.numpy_only("code"):
            1 / 0
