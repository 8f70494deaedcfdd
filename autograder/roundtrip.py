"""The instructor's round trip on the embedded sample submissions: release → submit → grade.

    python autograder/roundtrip.py --root build/demo            # every assignment
    python autograder/roundtrip.py --root build/demo -a 01_perceptron
    python autograder/roundtrip.py release                      # regenerate release/ only

For each assignment of source/ it runs nbgrader's ``generate_assignment`` in a course folder of
its own, files three submissions per assignment —

``reference``  the source notebook, solutions in place: full marks expected;
``untouched``  the released notebook as a student receives it: 0 auto-graded points expected;
``partial``    the released notebook with the cells named in ``samples/<assignment>/partial.py``
               filled in: a score strictly between,

— then grades them with the sandboxed runner (``grade.py``, as ``make grade`` does), writes
feedback and ``grades.csv``, and prints score/max per student and assignment, marked ``*``
where a written answer (the discussion, graded by hand) waits for a person in the formgrader.
nbgrader must be on PATH (the Makefile puts the venv's bin/ first: nbgrader shells out to
``alembic``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

from labutils.grading import ARTIFACT_DIR  # where graded notebooks save trained models

from autograder import grade  # the sandboxed class runner

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "autograder" / "samples"
STUDENTS = ("reference", "untouched", "partial")


class RoundTripError(RuntimeError):
    """An nbgrader step failed; the message names the step and the last lines of its log."""


def assignments() -> list[str]:
    folders = (REPO / "source").iterdir()
    return sorted(p.name for p in folders if p.is_dir() and p.name[:2].isdigit())


def nbgrader(root: Path, *args: str) -> str:
    """Run one nbgrader command in course folder ``root`` with the course's nbgrader_config.py."""
    cmd = ["nbgrader", *args, f"--CourseDirectory.root={root}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    log = done.stdout + done.stderr
    if done.returncode != 0 or "[ERROR]" in log:
        tail = "\n".join(log.strip().splitlines()[-15:])
        raise RoundTripError(f"`{' '.join(args)}` failed (exit {done.returncode}):\n{tail}")
    return log


def prepare(root: Path) -> None:
    """A fresh course folder whose source/ is the repository's (nothing else is shared)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "source").symlink_to(REPO / "source")


def _load_sample(assignment: str) -> dict:
    path = SAMPLES / assignment / "partial.py"
    spec = importlib.util.spec_from_file_location(f"partial_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"solved": list(getattr(module, "SOLVED", [])),
            "written": dict(getattr(module, "WRITTEN", {})),
            "run_before_submit": bool(getattr(module, "RUN_BEFORE_SUBMIT", False))}


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def partial_notebook(released: dict, reference: dict, sample: dict) -> dict:
    """The released notebook with some solution cells taken from the reference or written anew."""
    solutions = {_grade_id(c): c["source"] for c in reference["cells"] if _grade_id(c)}
    unknown = (set(sample["solved"]) | set(sample["written"])) - set(solutions)
    if unknown:
        raise RoundTripError(f"partial sample names cells that do not exist: {sorted(unknown)}")
    notebook = json.loads(json.dumps(released))
    for cell in notebook["cells"]:
        grade_id = _grade_id(cell)
        if grade_id in sample["solved"]:
            cell["source"] = solutions[grade_id]
        elif grade_id in sample["written"]:
            cell["source"] = sample["written"][grade_id]
    return notebook


def check_source_clean(assignment: str) -> None:
    """Refuse a source folder holding a trained model: nbgrader copies every file of it to the
    students (and over their own files when grading)."""
    leftover = REPO / "source" / assignment / ARTIFACT_DIR
    if leftover.exists():
        raise RoundTripError(f"{leftover.relative_to(REPO)}/ exists (saved by running the source "
                             "notebook): nbgrader would hand it to every student. Delete it.")


def run_like_a_student(folder: Path) -> None:
    """Execute the notebooks of a submission in place, as the student does before submitting
    (errors allowed: an unfinished notebook is submitted as it is)."""
    for notebook in sorted(folder.glob("*.ipynb")):
        cmd = [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
               "--ExecutePreprocessor.allow_errors=True", "--ExecutePreprocessor.timeout=600",
               notebook.name]
        done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
            raise RoundTripError(f"running {notebook} before submitting failed:\n{tail}")


def submit(root: Path, assignment: str) -> None:
    """File the three sample submissions under ``root/submitted/<student>/<assignment>/``.

    When the sample says RUN_BEFORE_SUBMIT, the reference and partial notebooks are run first,
    as a student runs them (an assignment graded from saved artifacts needs them)."""
    source, release = REPO / "source" / assignment, root / "release" / assignment
    sample = _load_sample(assignment)
    for student in STUDENTS:
        target = root / "submitted" / student / assignment
        shutil.copytree(source if student == "reference" else release, target)
    for nb_path in sorted(release.glob("*.ipynb")):
        released = json.loads(nb_path.read_text())
        reference = json.loads((source / nb_path.name).read_text())
        notebook = partial_notebook(released, reference, sample)
        out = root / "submitted" / "partial" / assignment / nb_path.name
        out.write_text(json.dumps(notebook, indent=1, ensure_ascii=False))
    if sample["run_before_submit"]:
        for student in ("reference", "partial"):
            run_like_a_student(root / "submitted" / student / assignment)


def run(root: Path, selected: list[str] | None = None, log=print, workers: int | None = None
        ) -> list[dict]:
    """The whole round trip for ``selected`` assignments (all by default): release, submit,
    then grade every submission with the sandboxed runner (``make grade``) and write feedback.
    Returns the rows of grades.csv (score and max_score as numbers, a status for each)."""
    root = root.resolve()
    prepare(root)
    selected = selected or assignments()
    for assignment in selected:
        check_source_clean(assignment)
        log(f"[{assignment}] generate_assignment")
        nbgrader(root, "generate_assignment", assignment, "--force")
        submit(root, assignment)
    log(f"grading {', '.join(STUDENTS)} with autograder/grade.py")
    try:
        rows = grade.grade_class(root, selected, workers=workers, feedback=True,
                                 log=lambda line: log(line))
    except grade.GradeError as err:
        raise RoundTripError(str(err)) from None
    return [dict(row, score=float(row["score"]), max_score=float(row["max_score"]),
                 needs_manual_grade=float(row["needs_manual_grade"])) for row in rows]


def generate_release(root: Path, target: Path = REPO / "release") -> Path:
    """Generate every student version in course folder ``root`` and copy them into ``target``."""
    root = root.resolve()
    prepare(root)
    for assignment in assignments():
        check_source_clean(assignment)
        nbgrader(root, "generate_assignment", assignment, "--force")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(root / "release", target,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc"))
    return target


MANUAL_NOTE = ("* needs manual grading: {points} of written discussion (考察) wait for a person in "
               "the\n  formgrader (rubrics: autograder/rubrics/)")


def score_table(rows: list[dict]) -> str:
    """One line per assignment, one column per student: score/max, with * where written answers
    wait for a person (nbgrader's needs_manual_grade), and a note saying so."""
    by_assignment: dict[str, dict[str, str]] = {}
    waiting = sorted({row["needs_manual_grade"] for row in rows if row["needs_manual_grade"]})
    for row in rows:
        mark = "*" if row["needs_manual_grade"] else ""
        cell = f"{row['score']:g}/{row['max_score']:g}{mark}"
        by_assignment.setdefault(row["assignment"], {})[row["student_id"]] = cell
    header = f"{'assignment':<18}" + "".join(f"{s:>12}" for s in STUDENTS)
    lines = [header, "-" * len(header)]
    for assignment in sorted(by_assignment):
        scores = by_assignment[assignment]
        lines.append(f"{assignment:<18}" + "".join(f"{scores.get(s, '-'):>12}" for s in STUDENTS))
    if waiting:
        points = " or ".join(f"{p:g}" for p in waiting)
        lines += ["", MANUAL_NOTE.format(points=f"{points} point{'s' if waiting != [1] else ''}")]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["demo", "release"], default="demo",
                        help="demo: the whole round trip (default); release: regenerate release/")
    parser.add_argument("--root", type=Path, default=REPO / "build" / "demo",
                        help="course folder to create (deleted first)")
    parser.add_argument("-a", "--assignment", action="append", choices=assignments(),
                        help="only this assignment (repeatable)")
    args = parser.parse_args(argv)
    try:
        if args.action == "release":
            print(f"release/ regenerated: {generate_release(args.root)}")
            return 0
        rows = run(args.root, args.assignment)
    except RoundTripError as err:
        print(f"round trip failed: {err}", file=sys.stderr)
        return 1
    print()
    print(score_table(rows))
    print(f"\nfeedback: {args.root / 'feedback'}    grades: {args.root / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
