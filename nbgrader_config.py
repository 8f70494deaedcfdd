"""nbgrader configuration of the course (read from the course root, where nbgrader runs)."""

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "dl-image-recognition"
# Assignments are the folders of source/; autograder/roundtrip.py lists them from there.
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# Each cell gets 30 s when graded. Graded notebooks never train for long: they grade the
# artifacts a lecture notebook saved. A runaway cell is interrupted, not left hanging.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback never shows hidden tests: clear them, and cut graded cells' tracebacks (which quote
# the source around the failing line) to the error message. See autograder/feedback.py.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "autograder"))
from feedback import ShortErrors  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortErrors,
                                    CSSHTMLHeaderPreprocessor]
