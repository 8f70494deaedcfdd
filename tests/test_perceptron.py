"""labutils.perceptron: gates, XOR by composition, the learning rule, pictures."""

import numpy as np
import pytest

from labutils import perceptron as P
from labutils import widgets


def test_step_fires_only_above_zero():
    np.testing.assert_array_equal(P.step([-1.0, 0.0, 1e-9, 2.0]), [0, 0, 1, 1])


@pytest.mark.parametrize("name", ["AND", "NAND", "OR", "XOR"])
def test_truth_tables(name):
    np.testing.assert_array_equal(P.truth_table(P.GATES[name])[:, 2], P.TARGETS[name])


def test_gates_work_on_arrays():
    np.testing.assert_array_equal(P.XOR(P.INPUTS[:, 0], P.INPUTS[:, 1]), P.TARGETS["XOR"])


def test_no_single_perceptron_on_a_grid_computes_xor():
    values = np.linspace(-3, 3, 25)
    w1, w2, b = np.meshgrid(values, values, values, indexing="ij")
    outputs = np.stack([P.perceptron(x1, x2, w1, w2, b) for x1, x2 in P.INPUTS], axis=-1)
    assert not np.any(np.all(outputs == P.TARGETS["XOR"], axis=-1))
    assert np.any(np.all(outputs == P.TARGETS["AND"], axis=-1))


def test_update_leaves_a_right_answer_alone_and_corrects_a_wrong_one():
    w, b = np.array([1.0, 1.0]), -1.5
    new_w, new_b = P.perceptron_update(w, b, np.array([1, 1]), t=1, lr=0.1)
    np.testing.assert_array_equal(new_w, w)
    assert new_b == b
    new_w, new_b = P.perceptron_update(w, b, np.array([1, 1]), t=0, lr=0.1)
    np.testing.assert_allclose(new_w, [0.9, 0.9])
    assert new_b == pytest.approx(-1.6)
    np.testing.assert_array_equal(w, [1.0, 1.0])  # the caller's array is untouched


@pytest.mark.parametrize("name", ["AND", "NAND", "OR"])
def test_training_converges_on_separable_gates(name):
    result = P.train_perceptron(P.INPUTS, P.TARGETS[name], lr=0.1, max_epochs=100)
    assert result.converged and result.errors_per_epoch[-1] == 0
    assert result.num_epochs == len(result.errors_per_epoch)
    outputs = P.perceptron(P.INPUTS[:, 0], P.INPUTS[:, 1], result.w[0], result.w[1], result.b)
    np.testing.assert_array_equal(outputs, P.TARGETS[name])


def test_training_never_converges_on_xor():
    result = P.train_perceptron(P.INPUTS, P.TARGETS["XOR"], lr=0.1, max_epochs=60)
    assert not result.converged and result.num_epochs == 60
    assert min(result.errors_per_epoch) > 0


def test_xor_argument_names_the_contradiction():
    text = P.xor_has_no_line()
    assert "w1 + w2 + b <= 0" in text and "no (w1, w2, b)" in text


def test_truth_table_html_marks_rows():
    html = widgets.truth_table_html(*P.GATE_PARAMS["AND"], P.TARGETS["AND"])
    assert html.count("✓") == 4 and "4/4" in html
    html = widgets.truth_table_html(*P.GATE_PARAMS["AND"], P.TARGETS["XOR"])
    assert "1/4" in html  # AND and XOR agree only at (0, 0)
