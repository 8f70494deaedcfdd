"""labutils.plots: counts are right and every figure has what a reader looks for."""

import numpy as np
import pytest

from labutils import plots
from labutils.train import History


def test_confusion_counts_match_a_loop():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    expected = np.zeros((4, 4), int)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    np.testing.assert_array_equal(plots.confusion_counts(y_true, y_pred), expected)
    assert plots.confusion_counts([0], [0], num_classes=3).shape == (3, 3)
    with pytest.raises(ValueError, match="shape"):
        plots.confusion_counts([0, 1], [0])


def test_confusion_matrix_writes_every_count_and_the_accuracy():
    fig = plots.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], class_names=["a", "b", "c"])
    ax = fig.axes[0]
    assert len(ax.texts) == 9
    assert "75.0%" in ax.get_title()


def test_learning_curves_show_train_and_validation():
    history = History([1.0, 0.5], [0.5, 0.8], [1.1, 0.7], [0.4, 0.7])
    fig = plots.learning_curves(history, title="t")
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), [1.1, 0.7])


def test_image_grid_accepts_common_layouts():
    for shape in [(5, 8, 8), (5, 1, 8, 8), (5, 8, 8, 3)]:
        fig = plots.image_grid(np.random.rand(*shape), labels=list("abcde"), ncols=3)
        shown = [ax for ax in fig.axes if ax.images]
        assert len(shown) == 5 and len(fig.axes) == 6


def test_filter_grid_scales_each_filter():
    weights = np.stack([np.full((1, 3, 3), 5.0), np.arange(9.0).reshape(1, 3, 3)])
    fig = plots.filter_grid(weights, ncols=2)
    second = fig.axes[1].images[0].get_array()
    assert second.min() == 0 and second.max() == 1
