"""What a student's feedback may show: their code, the visible tests, scores, and one-line
messages — never the hidden tests.

nbgrader's feedback is the autograded notebook rendered to HTML, and autograding puts the
hidden tests back into the test cells. ``nbgrader_config.py`` therefore runs nbgrader's own
``ClearHiddenTests`` before rendering, plus ``ShortErrors`` below: a traceback prints the
source lines around the failing line, which would show hidden code again, so every error is
cut to its last line (``AssertionError: running_mean after 4 batches is wrong``). Students
see the full traceback of their own code when they run the notebook themselves.
"""

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


class ShortErrors(Preprocessor):
    """Replace the traceback of every error output by its one-line message."""

    enabled = Bool(True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources
