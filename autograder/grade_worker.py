"""One nbgrader autograde run, configured for the sandboxed runner (autograder/grade.py).

    python autograder/grade_worker.py execute ROOT ASSIGNMENT STUDENT LIMITS_JSON
        Autograde one submission in a private course folder ROOT (a copy of the gradebook, the
        submission's scratch copy): nbgrader runs here, the kernel in the sandbox.
    python autograder/grade_worker.py merge ROOT ASSIGNMENT EXECUTED_DIR
        Record already executed notebooks (EXECUTED_DIR/STUDENT/ASSIGNMENT/) in the course's
        gradebook: nbgrader's checks and scoring again, no kernel. One process per assignment,
        so the gradebook has one writer.

Both load the course's nbgrader_config.py first, so every other setting is the instructor's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.apps.autogradeapp import AutogradeApp
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, DeduplicateIds,
                                    IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)
from traitlets.config.loader import PyFileConfigLoader

from autograder.sandbox import SandboxedExecute, SandboxedKernelManager

REPO = Path(__file__).resolve().parent.parent
SCORING = [IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
           AssignLatePenalties, CheckCellMetadata]


def course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def execute(root: str, assignment: str, student: str, limits_json: str) -> None:
    limits = json.loads(limits_json)
    config = course_config()
    config.CourseDirectory.root = root
    config.Autograde.autograde_preprocessors = [SandboxedExecute, *SCORING]
    config.SandboxedExecute.output_bytes = limits.pop("output_bytes")
    config.SandboxedKernelManager.limits = limits
    assert SandboxedKernelManager  # configured above by name
    AutogradeApp.launch_instance(argv=[assignment, "--student", student, "--force"],
                                 config=config)


def merge(root: str, assignment: str, executed: str) -> None:
    config = course_config()
    config.CourseDirectory.root = root
    config.CourseDirectory.submitted_directory = executed
    # No ClearOutput and no Execute: the outputs are the sandboxed run's.
    config.Autograde.sanitize_preprocessors = [DeduplicateIds, OverwriteKernelspec,
                                               OverwriteCells, CheckCellMetadata]
    config.Autograde.autograde_preprocessors = SCORING
    AutogradeApp.launch_instance(argv=[assignment, "--force"], config=config)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    {"execute": execute, "merge": merge}[mode](*args)
