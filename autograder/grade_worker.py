"""nbgrader's autograde, split in two for the sandboxed runner (autograder/grade.py).

    python autograder/grade_worker.py serve ROOT LIMITS_JSON
        A long-lived worker: reads one job per line on stdin ({"job", "student",
        "assignment", "notebooks"}), runs nbgrader's sanitizing preprocessors and its Execute
        (the kernel in the sandbox) on each notebook of that submission's scratch copy, and
        answers one line on stdout ({"error": null or one line}). nbgrader is imported once
        per worker, not once per submission: that import alone costs about 2 s of CPU.
    python autograder/grade_worker.py merge ROOT ASSIGNMENT EXECUTED_DIR
        Record already executed notebooks (EXECUTED_DIR/STUDENT/ASSIGNMENT/) in the course's
        gradebook: nbgrader's checks and scoring again, no kernel. One process per assignment,
        so the gradebook has one writer.

Both load the course's nbgrader_config.py first, so every other setting is the instructor's.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.apps.autogradeapp import AutogradeApp
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)
from traitlets.config.loader import PyFileConfigLoader

from autograder.sandbox import SandboxedExecute

REPO = Path(__file__).resolve().parent.parent
# nbgrader's own autograde order: sanitize (restore the instructor's cells) before executing.
SANITIZE = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
SCORING = [IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
           AssignLatePenalties, CheckCellMetadata]


def course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


class Worker:
    """Executes submissions one after another in one process, each in a fresh sandboxed
    kernel. It reads a private copy of the gradebook (the instructor's cells and kernelspec),
    so nothing it does can lock or change the course's."""

    def __init__(self, root: str, limits_json: str):
        limits = json.loads(limits_json)
        self.root = Path(root)
        self.config = course_config()
        self.config.SandboxedExecute.output_bytes = limits.pop("output_bytes")
        self.config.SandboxedKernelManager.limits = limits
        self.private = Path(tempfile.mkdtemp(prefix="grade-worker-"))
        shutil.copyfile(self.root / "gradebook.db", self.private / "gradebook.db")
        self.db_url = f"sqlite:///{self.private / 'gradebook.db'}"
        self.ignore = list(CourseDirectory(config=self.config).ignore)

    def copy_source_files(self, assignment: str, workdir: Path) -> None:
        """Like nbgrader: the instructor's non-notebook files of the assignment replace the
        student's copies (data files, helpers a notebook reads)."""
        source = self.root / "source" / assignment
        for path in source.rglob("*"):
            parts = path.relative_to(source).parts
            if path.is_dir() or any(fnmatch.fnmatch(p, pat) for p in parts
                                    for pat in self.ignore + ["*.ipynb"]):
                continue
            target = workdir / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            shutil.copyfile(path, target)

    def execute(self, job: str, student: str, assignment: str, notebooks: list[str]) -> None:
        workdir = Path(job) / "submitted" / student / assignment  # the scratch copy
        out = Path(job) / "autograded" / student / assignment
        out.mkdir(parents=True, exist_ok=True)
        self.copy_source_files(assignment, workdir)
        for name in notebooks:
            notebook = nbformat.read(workdir / name, as_version=nbformat.NO_CONVERT)
            resources = {"metadata": {"path": str(workdir)},
                         "nbgrader": {"student": student, "assignment": assignment,
                                      "notebook": Path(name).stem, "db_url": self.db_url}}
            for step in [*SANITIZE, SandboxedExecute]:
                notebook, resources = step(config=self.config).preprocess(notebook, resources)
            nbformat.write(notebook, out / name)

    def serve(self, requests, replies) -> None:
        for line in requests:
            job = json.loads(line)
            try:
                self.execute(job["job"], job["student"], job["assignment"], job["notebooks"])
                error = None
            except Exception as err:  # reported as the submission's outcome, worker goes on
                last = (str(err).strip().splitlines() or [""])[-1]
                error = f"{type(err).__name__}: {last[:300]}"
            replies.write(json.dumps({"error": error}) + "\n")
            replies.flush()
        shutil.rmtree(self.private, ignore_errors=True)


def serve(root: str, limits_json: str) -> None:
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader sets it while executing
    # Replies go on the real stdout; anything nbgrader or a library prints goes to the log.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    Worker(root, limits_json).serve(sys.stdin, replies)


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
    {"serve": serve, "merge": merge}[mode](*args)
