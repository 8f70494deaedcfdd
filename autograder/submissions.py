"""Building submissions from the real notebooks, for the suites that grade many of them
(hostile/, mistakes/, mutants.py): the released notebook a student starts from, the reference
solution, and edits of one cell at a time."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def released(assignment: str) -> dict:
    return json.loads((REPO / "release" / assignment / f"{assignment}.ipynb").read_text())


def reference(assignment: str) -> dict:
    return json.loads((REPO / "source" / assignment / f"{assignment}.ipynb").read_text())


def grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_test(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def is_solution(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def is_answer_graded_by_hand(cell: dict) -> bool:
    """nbgrader's manually graded answer: a graded solution cell (the written discussion)."""
    return is_test(cell) and is_solution(cell)


def manual_points(assignment: str) -> float:
    """Points of the assignment's answers that a person grades: the autograder can give at
    most max_score minus these."""
    return sum(float(cell["metadata"]["nbgrader"]["points"])
               for cell in reference(assignment)["cells"] if is_answer_graded_by_hand(cell))


def cell_of(notebook: dict, cell_id: str) -> dict:
    found = [c for c in notebook["cells"] if grade_id(c) == cell_id]
    if not found:
        raise KeyError(f"no cell with grade_id {cell_id!r}")
    return found[0]


def source_of(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def set_cell(notebook: dict, cell_id: str, code: str) -> dict:
    """A copy of ``notebook`` with one cell's source replaced."""
    notebook = copy.deepcopy(notebook)
    cell_of(notebook, cell_id)["source"] = code
    return notebook


def prepend(notebook: dict, cell_id: str, code: str) -> dict:
    """A copy with ``code`` put at the top of one cell (the rest of it stays)."""
    notebook = copy.deepcopy(notebook)
    cell = cell_of(notebook, cell_id)
    cell["source"] = code + "\n" + source_of(cell)
    return notebook


def write_notebook(folder: Path, assignment: str, notebook: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(notebook, indent=1))


def new_course(root: Path, assignments: list[str]) -> None:
    """A course folder of its own: source/ copied (never linked, so that nothing a submission
    does can reach the repository's), every assignment generated into its gradebook."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copytree(REPO / "source", root / "source",
                    ignore=shutil.ignore_patterns("artifacts", "__pycache__"))
    for assignment in assignments:
        nbgrader(root, "generate_assignment", assignment, "--force")


def nbgrader(root: Path, *args: str) -> str:
    cmd = ["nbgrader", *args, f"--CourseDirectory.root={root}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        log = (done.stdout + done.stderr)[-2000:]
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{log}")
    return done.stdout + done.stderr


def make_grade(root: Path) -> str:
    """The instructor's command, as the README gives it."""
    done = subprocess.run(["make", "--no-print-directory", "grade", f"COURSE={root}"],
                          cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"make grade failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def cell_messages(root: Path, student: str, assignment: str) -> dict[str, str]:
    """{test cell grade_id: the one-line message a student sees} for every failed test cell of
    an autograded notebook (the same line the feedback shows)."""
    path = root / "autograded" / student / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        return {}
    messages = {}
    for cell in json.loads(path.read_text())["cells"]:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if is_test(cell) and errors:
            messages[grade_id(cell)] = f"{errors[0]['ename']}: {errors[0]['evalue']}"
    return messages
