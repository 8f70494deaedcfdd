"""Interactive widgets (ipywidgets) for the lectures, each with a static fallback.

With a frontend (JupyterLab) a widget is shown; with none attached — nbval, nbgrader, CI, an
exported HTML page — the same drawing function runs once with the default values, so the notebook
still shows a figure. The Makefile sets ``LABUTILS_HEADLESS=1`` for every headless run.
"""

from __future__ import annotations

import os

from labutils.i18n import say

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
    each control's current ``value``. Shows its result itself and returns None, so a cell that
    ends with the call does not show the widget a second time.
    """
    if not frontend_attached():
        draw(**{name: control.value for name, control in controls.items()})
        return
    import ipywidgets as widgets
    from IPython.display import display
    display(widgets.interactive(draw, **controls))


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

    from labutils.perceptron import TARGETS
    from labutils.plots import plot_decision

    def draw(gate, w1, w2, b):
        fig, ax = plt.subplots(figsize=(3.6, 3.6))
        title = f"{gate}: w1={w1:.1f}, w2={w2:.1f}, b={b:.1f}"
        plot_decision(w1, w2, b, TARGETS[gate], ax=ax, title=title)
        plt.show()
        display(HTML(truth_table_html(w1, w2, b, TARGETS[gate])))

    return interactive_or_static(
        draw,
        gate=widgets.Dropdown(options=list(TARGETS), value=gate, description="gate"),
        w1=_slider(w1, -2, 2, 0.1, "w1"),
        w2=_slider(w2, -2, 2, 0.1, "w2"),
        b=_slider(b, -2, 2, 0.1, "b"),
    )


def optimizer_race(lr: float = 0.3, steps: int = 30,
                   names=("SGD", "Momentum", "AdaGrad", "RMSProp", "Adam")):
    """Race the optimizers of topic 2 on f(x, y) = x²/20 + y² at one shared learning rate.

    A log slider sets the rate, a slider the number of steps, checkboxes pick the racers. Left:
    the paths from (-7, 2) over the contour lines; right: f after each step (log scale).
    Defined for course/02_backprop.ipynb.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from labutils.backprop import OPTIMIZERS, optimizer_paths, valley
    from labutils.plots import plot_optimizer_paths

    def draw(lr, steps, **racing):
        paths = optimizer_paths(lr=lr, names=[name for name, on in racing.items() if on],
                                steps=steps)
        fig, (ax_path, ax_f) = plt.subplots(1, 2, figsize=(11, 3.8))
        plot_optimizer_paths(ax_path, paths, title=say("lr = {lr:.3g}, {steps} steps",
                                                       "学習率 {lr:.3g}、{steps} ステップ",
                                                       lr=lr, steps=steps))
        for name, path in paths.items():
            ax_f.semilogy(valley(*path.T), color=f"C{list(OPTIMIZERS).index(name)}", label=name)
        ax_f.set(xlabel=say("step", "ステップ"), ylabel="f(x, y)",
                 title=say("who gets lowest first", "どれが最初に最も低くなるか"))
        ax_f.grid(alpha=0.3)
        if paths:
            ax_f.legend()
        fig.tight_layout()
        plt.show()

    return interactive_or_static(
        draw,
        lr=widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0.3, step=0.05, description="lr",
                                  continuous_update=False, readout_format=".3g"),
        steps=widgets.IntSlider(value=steps, min=1, max=100, description="steps",
                                continuous_update=False),
        **{name: widgets.Checkbox(value=name in names, description=name) for name in OPTIMIZERS},
    )


def im2col_explorer(size: int = 3, stride: int = 1, pad: int = 0, row: int = 0):
    """Sliders for kernel size, stride, padding and a row of the im2col matrix of the 6x6 "5".

    Left: the padded input with the patch of that row outlined; right: the im2col matrix with
    the row outlined. Sizes that do not fit print conv_output_size's reason instead. Defined for
    course/03_conv.ipynb.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from labutils.conv import DIGIT_FIVE
    from labutils.plots import plot_im2col

    def draw(size, stride, pad, row):
        fig, (ax_input, ax_col) = plt.subplots(1, 2, figsize=(10, 4.6),
                                               gridspec_kw={"width_ratios": [1, 1.3]})
        try:
            plot_im2col(ax_input, ax_col, DIGIT_FIVE, size, size, stride, pad, row)
        except ValueError as err:
            plt.close(fig)
            print(f"kernel {size}, stride {stride}, pad {pad} does not fit the 6x6 input: {err}")
            return
        fig.tight_layout()
        plt.show()

    def int_slider(value, high, label, low=0):
        return widgets.IntSlider(value=value, min=low, max=high, description=label,
                                 continuous_update=False)

    return interactive_or_static(draw, size=int_slider(size, 6, "kernel", low=1),
                                 stride=int_slider(stride, 3, "stride", low=1),
                                 pad=int_slider(pad, 2, "padding"), row=int_slider(row, 99, "row"))


def truth_table_html(w1: float, w2: float, b: float, targets) -> str:
    """The perceptron's outputs beside the wanted ones, as an HTML table marking each row.

    Its labels are in the student's language (:mod:`labutils.i18n`)."""
    import numpy as np

    from labutils.perceptron import INPUTS, perceptron

    outputs = perceptron(INPUTS[:, 0], INPUTS[:, 1], w1, w2, b)
    cells = ([x1, x2, y, t, "✓" if y == t else "✗"]
             for (x1, x2), y, t in zip(INPUTS, outputs, targets))
    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in cells)
    score = int(np.sum(outputs == np.asarray(targets)))
    header = ["x1", "x2", say("output", "出力"), say("wanted", "正解"), ""]
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
            f"{rows}</table><p>{say('{n}/4 rows right', '正しい行 {n}/4', n=score)}</p>")
