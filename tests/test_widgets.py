"""labutils.widgets: without a frontend the drawing runs once with the controls' values."""

import ipywidgets
import matplotlib.pyplot as plt

from labutils import widgets


def test_headless_environment_means_no_frontend(monkeypatch):
    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    assert not widgets.frontend_attached()


def test_outside_a_kernel_there_is_no_frontend(monkeypatch):
    monkeypatch.delenv(widgets.HEADLESS_ENV, raising=False)
    assert not widgets.frontend_attached()  # pytest is not an IPython kernel


def test_static_fallback_calls_draw_with_the_values(monkeypatch):
    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    seen = {}
    result = widgets.interactive_or_static(lambda a, b: seen.update(a=a, b=b),
                                           a=ipywidgets.FloatSlider(value=0.3),
                                           b=ipywidgets.Dropdown(options=["x", "y"], value="y"))
    assert result is None and seen == {"a": 0.3, "b": "y"}


def test_gate_explorer_draws_a_static_figure(monkeypatch):
    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    monkeypatch.setattr(plt, "show", lambda: None)  # keep the figure open to inspect it
    assert widgets.gate_explorer(gate="OR", w1=1.0, w2=1.0, b=-0.5) is None
    ax = plt.gcf().axes[0]
    assert ax.get_title().startswith("OR: w1=1.0")
