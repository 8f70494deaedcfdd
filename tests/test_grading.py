"""labutils.grading: the assertion helpers say what is wrong, and pass what is right."""

import numpy as np
import pytest

from labutils import grading


def test_assert_close_passes_within_tolerance():
    grading.assert_close(np.ones(3) + 1e-9, np.ones(3), "x")


def test_assert_close_names_the_worst_entry():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    with pytest.raises(AssertionError, match=r"dW is wrong at index \(1, 2\): got 0.5, expected 0"):
        grading.assert_close(actual, expected, "dW")


def test_assert_close_explains_shapes_and_none():
    with pytest.raises(AssertionError, match="looks transposed"):
        grading.assert_close(np.zeros((3, 2)), np.zeros((2, 3)), "dW")
    with pytest.raises(AssertionError, match="forget to return"):
        grading.assert_close(None, np.zeros(2), "out")
    with pytest.raises(AssertionError, match="nan"):
        grading.assert_close(np.array([np.nan]), np.zeros(1), "out")
