"""labutils.plots: counts are right and every figure has what a reader looks for."""

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib_fontja
import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from labutils import backprop, conv, perceptron, plots
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


# ---------------------------------------------------------------- the topics' drawings


def test_plot_decision_draws_line_points_and_regions():
    ax = plots.plot_decision(1.0, 1.0, -1.5, perceptron.TARGETS["AND"])
    assert len(ax.lines) == 1 and len(ax.collections) >= 5  # regions + 4 points
    ax = plots.plot_decision(1.0, 0.0, -0.5)  # vertical line
    assert len(ax.lines) == 1


def test_xor_no_line_crosses_out_what_each_line_gets_wrong():
    attempts = [perceptron.GATE_PARAMS["OR"], perceptron.GATE_PARAMS["NAND"], (1.0, -1.0, -0.5)]
    fig = plots.xor_no_line(attempts)
    assert len(fig.axes) == len(attempts) + 1
    for ax in fig.axes[:-1]:
        crosses = [c for c in ax.collections if c.get_offsets().shape[0] and
                   tuple(c.get_facecolor()[0][:3]) == (1.0, 0.0, 0.0)]
        assert len(crosses) == 1 and len(crosses[0].get_offsets()) >= 1  # every line errs
    diagonals = fig.axes[-1].lines
    assert len(diagonals) == 2
    np.testing.assert_allclose(diagonals[0].get_xydata().mean(axis=0), [0.5, 0.5])
    np.testing.assert_allclose(diagonals[1].get_xydata().mean(axis=0), [0.5, 0.5])


def test_plot_optimizer_paths_draws_one_line_per_path():
    import matplotlib.pyplot as plt
    _, ax = plt.subplots()
    paths = backprop.optimizer_paths(names=["SGD", "Momentum"], steps=4)
    assert plots.plot_optimizer_paths(ax, paths, title="two") is ax
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in labelled] == ["SGD", "Momentum"]
    np.testing.assert_array_equal(labelled[0].get_xydata(), paths["SGD"])
    assert ax.get_title() == "two" and ax.collections  # the contour lines


def test_plot_grid_writes_every_number_and_outlines_boxes():
    """One text per cell, readable on dark cells, and one outline per box; ax comes back."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    boxes = [(0, 0, 3, 3), (3, 3, 3, 3)]
    assert plots.plot_grid(ax, conv.DIGIT_FIVE, title="five", boxes=boxes) is ax
    texts = [t for t in ax.texts]
    assert [t.get_text() for t in texts] == [f"{v:g}" for v in conv.DIGIT_FIVE.ravel()]
    colours = {t.get_text(): t.get_color() for t in texts}
    assert colours == {"1": "white", "0": "black"}  # ink is dark in "Greys"
    assert len(ax.lines) == 2 and ax.get_title() == "five"
    fig2, ax2 = plt.subplots()
    plots.plot_grid(ax2, np.zeros((50, 9)), numbers=False)
    assert not ax2.texts


def test_plot_im2col_outlines_the_patch_of_a_row():
    """Row r of the drawing is output position divmod(r, OW); rows past the end are clipped."""
    import matplotlib.pyplot as plt
    fig, (ax_in, ax_col) = plt.subplots(1, 2)
    shown = plots.plot_im2col(ax_in, ax_col, conv.DIGIT_FIVE, 2, 2, stride=2, pad=1, row=5)
    assert shown == (5, (1, 1))
    assert "patch at (2, 2)" in ax_in.get_title() and "16 rows x 4 columns" in ax_col.get_title()
    assert len(ax_in.lines) == 2  # the patch and the dashed frame of the unpadded image
    shown = plots.plot_im2col(*plt.subplots(1, 2)[1], conv.DIGIT_FIVE, 3, 3, 3, 0, row=99)
    assert shown == (3, (1, 1))
    with pytest.raises(ValueError, match="divisible by stride 2"):
        plots.plot_im2col(*plt.subplots(1, 2)[1], conv.DIGIT_FIVE, 3, 3, 2, 0)


def test_japanese_labels_render_in_the_shipped_font():
    """No missing-glyph boxes, and the font that draws the kana is the one a dependency ships,
    not one this machine happens to have; English stays in matplotlib's default font."""
    fig, ax = plt.subplots()
    ax.set(title="学習率と損失関数", xlabel="エポック (epoch)")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"(?s).*Glyph.*missing")
        fig.canvas.draw()
    japanese = font_manager.findfont(FontProperties(family=plots.JAPANESE_FONT),
                                     fallback_to_default=False)
    assert Path(japanese).is_relative_to(Path(matplotlib_fontja.__file__).parent)
    latin = font_manager.findfont(FontProperties(family=plt.rcParams["font.family"][:1]))
    assert Path(latin).name == "DejaVuSans.ttf"


def test_without_the_fallback_japanese_would_be_boxes():
    """The check above can fail: matplotlib's own font has no kana."""
    with plt.rc_context({"font.family": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("学習率")
        with pytest.warns(UserWarning, match=r"(?s)Glyph.*missing"):
            fig.canvas.draw()
