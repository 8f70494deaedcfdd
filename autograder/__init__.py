"""autograder: what only instructors see. Grading a class in a sandbox (``grade``), the round
trip on the sample submissions (``roundtrip``), the hostile submissions (``hostile``), the
mistake bank and mutants (``mistakes``). Installed with the course (pyproject.toml), so
``nbgrader_config.py``, the tests and bench/ import it as ``from autograder import grade``.
"""
