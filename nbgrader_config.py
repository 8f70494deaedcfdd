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

# Grading a class (`make grade`, autograder/grade.py): each submission's kernel runs in a
# sandbox with these limits (autograder/sandbox.py, Limits). Per-cell time is Execute.timeout.
c.GradeRunner.workers = 0             # submissions graded at once; 0: one per core
c.GradeRunner.memory_mb = 4096        # memory a student's kernel may allocate (RLIMIT_DATA)
c.GradeRunner.wall_seconds = 600      # one whole submission, kernel start included
c.GradeRunner.output_bytes = 200_000  # characters a notebook may print; the rest is dropped
c.GradeRunner.file_mb = 256           # largest file a notebook may write
c.GradeRunner.readable = []           # extra read-only paths (the data folder is always there)

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback never shows hidden tests: clear them, and cut graded cells' tracebacks (which quote
# the source around the failing line) to the error message. See autograder/feedback.py.
from autograder.feedback import ShortErrors  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortErrors,
                                    CSSHTMLHeaderPreprocessor]
