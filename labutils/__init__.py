"""labutils: the one helper package every notebook of the course imports.

One module per topic (``perceptron``, ``backprop``, ``conv``, ...) beside a small core
(``data``, ``train``, ``plots``, ``widgets``, ``grading``). Import the module you need::

    from labutils import perceptron, plots
"""

__version__ = "0.1.0"
