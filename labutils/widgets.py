"""Interactive widgets (ipywidgets) for the lectures, each with a static fallback.

With a frontend (JupyterLab) a widget is shown; with none attached — nbval, nbgrader, CI, an
exported HTML page — the same drawing function runs once with the default values, so the notebook
still shows a figure. The Makefile sets ``LABUTILS_HEADLESS=1`` for every headless run.
"""

from __future__ import annotations

import os

HEADLESS_ENV = "LABUTILS_HEADLESS"


def frontend_attached() -> bool:
    """True inside a Jupyter kernel unless ``LABUTILS_HEADLESS=1`` says nobody is watching."""
    if os.environ.get(HEADLESS_ENV, "").strip().lower() in {"1", "true", "yes"}:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def interactive_or_static(draw, **controls):
    """Show ``ipywidgets.interactive(draw, **controls)``, or call ``draw`` once with the values.

    ``controls`` maps each argument of ``draw`` to an ipywidgets control; the static call uses
    each control's current ``value``. Returns the widget, or None when drawn statically.
    """
    if not frontend_attached():
        draw(**{name: control.value for name, control in controls.items()})
        return None
    import ipywidgets as widgets
    from IPython.display import display
    widget = widgets.interactive(draw, **controls)
    display(widget)
    return widget


def _slider(value: float, low: float, high: float, step: float, label: str):
    import ipywidgets as widgets
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=label,
                               continuous_update=False, readout_format=".1f")


def gate_explorer(gate: str = "AND", w1: float = 0.0, w2: float = 0.0, b: float = 0.0):
    """Sliders for w1, w2 and b redraw the decision line and the truth table of one gate.

    Defined for course/01_perceptron.ipynb; ``gate`` picks the wanted outputs to compare against.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    from labutils.perceptron import TARGETS, plot_decision, truth_table_html

    def draw(gate, w1, w2, b):
        fig, ax = plt.subplots(figsize=(3.6, 3.6))
        plot_decision(w1, w2, b, TARGETS[gate], ax=ax, title=f"{gate}: w1={w1:.1f}, w2={w2:.1f}, b={b:.1f}")
        plt.show()
        display(HTML(truth_table_html(w1, w2, b, TARGETS[gate])))

    return interactive_or_static(
        draw,
        gate=widgets.Dropdown(options=list(TARGETS), value=gate, description="gate"),
        w1=_slider(w1, -2, 2, 0.1, "w1"),
        w2=_slider(w2, -2, 2, 0.1, "w2"),
        b=_slider(b, -2, 2, 0.1, "b"),
    )
