"""Grading speed: the sandboxed runner (`make grade`) against plain `nbgrader autograde`.

    python bench/autograde.py [--students 30] [--skip-class | --class-only]

All in one run, on the same submissions (the round trip's reference, untouched and partial
notebooks of every assignment):

1. seconds per notebook, each assignment, one at a time: plain nbgrader vs the runner with one
   worker (the sandbox's overhead);
2. a class of N students x 6 assignments (a third each reference, untouched, partial): plain
   sequential `nbgrader autograde` per assignment vs the runner with a worker per core;
3. where the time goes: a kernel's start and stop, plain and sandboxed, and `import torch`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from autograder import grade, roundtrip

REPO = Path(__file__).resolve().parent.parent

KINDS = roundtrip.STUDENTS  # reference, untouched, partial


def build_course(root: Path, students: int) -> None:
    """Every assignment released, its three samples submitted, and a class of ``students``
    copies (student i gets sample i mod 3) under a second course folder ``root/class``."""
    roundtrip.prepare(root)
    for assignment in roundtrip.assignments():
        roundtrip.nbgrader(root, "generate_assignment", assignment, "--force")
        roundtrip.submit(root, assignment)
    klass = root / "class"
    klass.mkdir()
    (klass / "source").symlink_to(REPO / "source")
    shutil.copyfile(root / "gradebook.db", klass / "gradebook.db")
    for i in range(students):
        for assignment in roundtrip.assignments():
            shutil.copytree(root / "submitted" / KINDS[i % 3] / assignment,
                            klass / "submitted" / f"student{i:02d}" / assignment)


def fresh_gradebook(root: Path, pristine: Path) -> None:
    """Grading state off: the released gradebook back, nbgrader's and the runner's outputs gone."""
    for folder in ("autograded", "feedback", ".grading", grade.EXECUTED):
        shutil.rmtree(root / folder, ignore_errors=True)
    shutil.copyfile(pristine, root / "gradebook.db")


def plain(root: Path, assignment: str, student: str | None = None) -> float:
    args = ["autograde", assignment, "--force"] + (["--student", student] if student else [])
    start = time.perf_counter()
    roundtrip.nbgrader(root, *args)
    return time.perf_counter() - start


def runner(root: Path, assignments: list[str], workers: int) -> float:
    start = time.perf_counter()
    grade.grade_class(root, assignments, workers=workers, force=True, log=lambda line: None)
    return time.perf_counter() - start


def per_notebook(root: Path, pristine: Path) -> list[tuple[str, float, float]]:
    rows = []
    for assignment in roundtrip.assignments():
        fresh_gradebook(root, pristine)
        plain_s = sum(plain(root, assignment, s) for s in KINDS) / len(KINDS)
        fresh_gradebook(root, pristine)
        runner_s = runner(root, [assignment], workers=1) / len(KINDS)
        rows.append((assignment, plain_s, runner_s))
    return rows


@contextlib.contextmanager
def quiet_stderr():
    """File descriptor 2 (which kernels inherit) sent to /dev/null for the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def kernel_costs() -> dict[str, float]:
    """Seconds to start a kernel, run one cell and stop it: plain, sandboxed, and with torch."""
    import nbformat
    from nbgrader.preprocessors import Execute

    from autograder import sandbox

    def run(cells, sandboxed):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        work = REPO / "build" / "bench_kernel"
        work.mkdir(parents=True, exist_ok=True)
        executor = (sandbox.SandboxedExecute if sandboxed else Execute)(timeout=120)
        start = time.perf_counter()
        with quiet_stderr():  # the kernels' start-up banners would break up the table
            executor.preprocess(notebook, {"metadata": {"path": str(work)}})
        return time.perf_counter() - start

    costs = {}
    # What a worker process pays once (the runner) and plain nbgrader once per assignment.
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import nbgrader.apps.autogradeapp"], check=True)
    costs["python + import nbgrader"] = time.perf_counter() - start
    for label, sandboxed in (("plain", False), ("sandboxed", True)):
        costs[f"kernel start+stop, {label}"] = min(run(["pass"], sandboxed) for _ in range(3))
        costs[f"kernel + import torch, {label}"] = min(
            run(["import torch"], sandboxed) for _ in range(2))
    return costs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--skip-class", action="store_true")
    parser.add_argument("--class-only", action="store_true", help="only part 2, the class")
    parser.add_argument("--root", type=Path, default=REPO / "build" / "bench_autograde")
    args = parser.parse_args(argv)
    os.environ.setdefault("LABUTILS_HEADLESS", "1")
    root = args.root.resolve()
    cores = len(os.sched_getaffinity(0))
    print(f"building the course ({args.students} students) ...", flush=True)
    build_course(root, args.students)
    pristine = root / ".gradebook.released.db"
    shutil.copyfile(root / "gradebook.db", pristine)

    if not args.class_only:
        per_notebook_table(root, pristine)
    if not args.skip_class:
        class_table(root / "class", args.students, cores)
    done = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print(f"\n(machine: {done} cores visible)")
    return 0


def per_notebook_table(root: Path, pristine: Path) -> None:
    print("\n1. seconds per notebook, one at a time (mean of reference, untouched, partial)")
    print(f"{'assignment':<20}{'nbgrader':>10}{'runner':>10}{'ratio':>8}")
    rows = per_notebook(root, pristine)
    for assignment, plain_s, runner_s in rows:
        print(f"{assignment:<20}{plain_s:>10.2f}{runner_s:>10.2f}{runner_s / plain_s:>8.2f}")
    total_plain, total_runner = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{'all six':<20}{total_plain:>10.2f}{total_runner:>10.2f}"
          f"{total_runner / total_plain:>8.2f}")

    print("\n3. where a notebook's time goes (seconds, best of 2-3)")
    for label, seconds in kernel_costs().items():
        print(f"{label:<40}{seconds:>8.2f}")



def class_table(klass: Path, students: int, cores: int) -> None:
    """Plain sequential nbgrader against the runner with a worker per core, on one class."""
    pristine_class = klass / ".gradebook.released.db"
    shutil.copyfile(klass / "gradebook.db", pristine_class)
    n = students * len(roundtrip.assignments())
    print(f"\n2. a class: {students} students x 6 assignments = {n} notebooks, "
          f"{cores} cores", flush=True)
    fresh_gradebook(klass, pristine_class)
    start = time.perf_counter()
    for assignment in roundtrip.assignments():
        plain(klass, assignment)
    sequential = time.perf_counter() - start
    fresh_gradebook(klass, pristine_class)
    parallel = runner(klass, roundtrip.assignments(), workers=cores)
    print(f"{'plain nbgrader, sequential':<40}{sequential:>8.0f} s")
    print(f"{f'runner, {cores} workers':<40}{parallel:>8.0f} s")
    print(f"{'speed-up':<40}{sequential / parallel:>8.2f} x")

if __name__ == "__main__":
    sys.exit(main())
