"""Grade a class: every submission in its own sandbox, in parallel, resumable (`make grade`).

    python autograder/grade.py --root COURSE [-a ASSIGNMENT]... [-j WORKERS] [--force]
                               [--feedback]

COURSE is an nbgrader course folder (``CourseDirectory.root``): ``gradebook.db`` made by
``nbgrader generate_assignment``, ``source/`` and the students' work in
``submitted/STUDENT/ASSIGNMENT/``. For each submission:

1. a scratch copy goes to ``.grading/jobs/STUDENT/ASSIGNMENT/``; notebooks that are not JSON,
   and folders without a notebook, are settled here without a kernel;
2. a long-lived ``grade_worker.py serve`` process (one per worker, one worker per core) runs
   nbgrader's sanitizing preprocessors (the instructor's cells restored) and its Execute on it,
   the kernel in the sandbox (``sandbox.py``: no network, own process namespace, memory/file/
   output/time limits, only the scratch copy writable, nothing of the course visible);
3. the executed notebook is read for the outcome (timed out, out of memory, kernel died), its
   student cells for tampering with the checks (``tamper.py``), and kept in ``.sandboxed/``;
4. at the end one ``grade_worker.py merge`` per assignment records every executed notebook in
   the course's gradebook through nbgrader (one writer), and ``grades.csv`` gets one row per
   student and assignment with a ``status`` column.

Finished submissions are remembered in ``.grading/state/STUDENT/ASSIGNMENT.json`` with a digest
of their files: a rerun after an interruption grades only what is new or changed (``--force``
regrades all). On a cluster, ``--list`` names the submissions, one array job per line runs
``--one STUDENT/ASSIGNMENT``, and one last job runs ``--record`` (autograder/cluster/).
Limits come from ``c.GradeRunner`` in nbgrader_config.py (see ``sandbox.Limits``).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import os
import queue
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat

from autograder import sandbox, tamper

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "grade_worker.py"
EXECUTED = ".sandboxed"  # executed notebooks, nbgrader's "submitted" folder for the merge
# Files nbgrader's exchange puts beside a submission; autograde carries them on to feedback.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")
STATUSES = ("graded", "timed out", "out of memory", "kernel died", "tampered", "not a notebook",
            "no notebook submitted", "not submitted")
SETTLED = ("not a notebook", "no notebook submitted")  # decided without a kernel
# How an outcome shows in an executed notebook: the first match wins.
ERROR_STATUS = (("CellTimeoutError", "timed out"), ("DeadKernelError", "kernel died"),
                ("MemoryError", "out of memory"), ("OutOfMemoryError", "out of memory"))


class GradeError(RuntimeError):
    """Something the instructor must fix before grading can start (one line)."""


@dataclasses.dataclass
class Outcome:
    student: str
    assignment: str
    status: str
    note: str = ""
    seconds: float = 0.0


def read_limits(overrides: dict | None = None) -> sandbox.Limits:
    """sandbox.Limits from ``c.GradeRunner`` in the course's nbgrader_config.py."""
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    section = config.get("GradeRunner", {})
    fields = {f.name for f in dataclasses.fields(sandbox.Limits)}
    values = {k: v for k, v in section.items() if k in fields}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return sandbox.Limits(**values)


def default_workers() -> int:
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    return int(config.get("GradeRunner", {}).get("workers", 0)) or len(os.sched_getaffinity(0))


# ---------------------------------------------------------------- what is there to grade

def assignments_in_gradebook(root: Path) -> list[str]:
    db = root / "gradebook.db"
    if not db.exists():
        raise GradeError(f"{db} does not exist: run `nbgrader generate_assignment` first")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return sorted(row[0] for row in conn.execute("SELECT name FROM assignment"))


def submissions(root: Path, selected: list[str]) -> list[tuple[str, str]]:
    """(student, assignment) for every folder submitted/STUDENT/ASSIGNMENT/ of ``selected``."""
    found = []
    for student_dir in sorted((root / "submitted").glob("*")):
        for assignment in selected:
            if (student_dir / assignment).is_dir():
                found.append((student_dir.name, assignment))
    return found


def notebook_names(root: Path, assignment: str) -> list[str]:
    return sorted(p.name for p in (root / "source" / assignment).glob("*.ipynb"))


def digest(folder: Path, extra: str) -> str:
    """SHA-256 of a submission's files (names and bytes) and of ``extra``."""
    sha = hashlib.sha256(extra.encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            sha.update(str(path.relative_to(folder)).encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def precheck(folder: Path, names: list[str]) -> tuple[str, str] | None:
    """(status, note) for a submission that needs no kernel, else None."""
    present = [folder / n for n in names
               if (folder / n).is_file() and not (folder / n).is_symlink()]
    if not present:
        return "no notebook submitted", f"expected {', '.join(names)}"
    for path in present:
        try:
            nbformat.validate(nbformat.reads(path.read_text(errors="replace"), as_version=4))
        except Exception as err:  # any unreadable notebook is the same answer to the student
            return "not a notebook", f"{path.name}: {type(err).__name__}"
    return None


# ---------------------------------------------------------------- one submission

def copy_plain(source: Path, target: Path) -> None:
    """Copy regular files and folders only: a symlink in a submission could point nbgrader
    (which runs outside the sandbox) at the instructor's files."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_symlink():
            continue
        if path.is_dir():
            copy_plain(path, target / path.name)
        elif path.is_file():
            shutil.copyfile(path, target / path.name)


def prepare_job(root: Path, student: str, assignment: str) -> Path:
    """A private folder for one submission: its scratch copy (the kernel's only writable
    directory) in ``submitted/``, the executed notebooks in ``autograded/``."""
    job = root / ".grading" / "jobs" / student / assignment
    if job.exists():
        shutil.rmtree(job)
    job.mkdir(parents=True)
    copy_plain(root / "submitted" / student / assignment, job / "submitted" / student / assignment)
    return job


class Worker:
    """One long-lived ``grade_worker.py serve`` process: it imports nbgrader once and executes
    submissions one after another, each in a fresh sandboxed kernel. Past the wall-clock
    limit its whole process group (nbgrader and, through it, the kernel) is killed, and the
    next submission starts a new one."""

    def __init__(self, root: Path, limits: sandbox.Limits, log_path: Path):
        self.root, self.limits, self.log_path = root, limits, log_path
        self.process: subprocess.Popen | None = None

    def _start(self) -> None:
        limits_json = json.dumps(dataclasses.asdict(self.limits))
        cmd = [sys.executable, str(WORKER), "serve", str(self.root), limits_json]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, text=True,
                                            start_new_session=True)

    def run(self, job: Path, student: str, assignment: str, names: list[str]
            ) -> tuple[int | None, str]:
        """Execute one submission: (0, "") when done, (1, reason) when it failed, (None, "")
        past the wall-clock limit."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        request = {"job": str(job), "student": student, "assignment": assignment,
                   "notebooks": names}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], self.limits.wall_seconds)
        if not ready:
            self.stop()
            return None, ""
        line = self.process.stdout.readline()
        if not line:  # the worker itself died
            self.stop()
            return 1, self.log_path.read_bytes()[-4000:].decode(errors="replace")
        error = json.loads(line)["error"]
        return (1, error) if error else (0, "")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def close(self) -> None:
        """Let the worker finish and clean up; kill it if it does not."""
        if self.process is None:
            return
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.stop()


def outcome_of(notebooks: list[dict], code: int | None, log_tail: str) -> tuple[str, str]:
    """(status, note) from the executed notebooks, the worker's exit and its log."""
    if code is None:
        return "timed out", "the whole submission ran past the wall-clock limit"
    errors = [output.get("ename", "") for nb in notebooks for cell in nb.get("cells", [])
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    for ename, status in ERROR_STATUS:
        if ename in errors:
            return status, ename
    if "DeadKernelError" in log_tail or "Kernel died" in log_tail:
        return "kernel died", "the kernel stopped (crashed, exited or was killed)"
    if not notebooks:
        last = log_tail.strip().splitlines()[-1:] or ["no log"]
        return "kernel died", f"no executed notebook: {last[0][:200]}"
    return "graded", ""


def void_tests(notebook: dict, reason: str) -> None:
    """Mark every graded cell failed, with ``reason`` as the message the student sees."""
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                "error", ename="IntegrityError", evalue=reason, traceback=[reason]))


def grade_one(root: Path, student: str, assignment: str, worker: Worker) -> Outcome:
    """Grade one submission in its sandbox; leave its executed notebooks in .sandboxed/."""
    start = time.monotonic()
    names = notebook_names(root, assignment)
    submitted = root / "submitted" / student / assignment
    target = root / EXECUTED / student / assignment
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    # nbgrader's bookkeeping of a collected submission; release_feedback needs the secret
    for bookkeeping in NBGRADER_FILES:
        if (submitted / bookkeeping).is_file():
            shutil.copyfile(submitted / bookkeeping, target / bookkeeping)
    settled = precheck(submitted, names)
    if settled:  # nothing to execute: no folder in .sandboxed/, zero_missing gives the row
        shutil.rmtree(target)
        return Outcome(student, assignment, *settled, time.monotonic() - start)
    job = prepare_job(root, student, assignment)
    code, log_tail = worker.run(job, student, assignment, names)
    executed = job / "autograded" / student / assignment
    notebooks = {n: json.loads((executed / n).read_text()) for n in names
                 if (executed / n).is_file()}
    status, note = outcome_of(list(notebooks.values()), code, log_tail)
    for name, notebook in notebooks.items():
        source = json.loads((root / "source" / assignment / name).read_text())
        found = tamper.scan(notebook, source)
        if found:
            status, note = "tampered", "; ".join(found[:3])
            void_tests(notebook, "this notebook changes the code that checks it "
                       f"({found[0]}): its tests are not counted")
        (target / name).write_text(json.dumps(notebook))
    shutil.rmtree(job, ignore_errors=True)
    if not notebooks:
        shutil.rmtree(target)
    return Outcome(student, assignment, status, note, time.monotonic() - start)


# ---------------------------------------------------------------- the class

class State:
    """What was graded already, one small JSON file per submission under .grading/state/
    ({"digest", "status", "note"}): each written by the one process that graded it, so
    parallel workers, or array jobs on a cluster, never write the same file."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / ".grading" / "state"

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict:
        path = self._path(key)
        return json.loads(path.read_text()) if path.is_file() else {}

    def done(self, key: str, digest_now: str) -> bool:
        entry = self.get(key)
        return bool(entry) and entry["digest"] == digest_now and (
            (self.root / EXECUTED / key).is_dir() or entry["status"] in SETTLED)

    def record(self, key: str, digest_now: str, outcome: Outcome) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps({"digest": digest_now, "status": outcome.status,
                                       "note": outcome.note}))
        partial.replace(path)


def nbgrader(root: Path, *args: str) -> str:
    cmd = ["nbgrader", *args, f"--CourseDirectory.root={root}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    log = done.stdout + done.stderr
    if done.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-10:])
        raise GradeError(f"`nbgrader {' '.join(args)}` failed (exit {done.returncode}):\n{tail}")
    return log


def merge(root: Path, assignment: str) -> None:
    """Record the executed notebooks of one assignment in the gradebook (one process)."""
    cmd = [sys.executable, str(WORKER), "merge", str(root), assignment, EXECUTED]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        raise GradeError(f"recording {assignment} in the gradebook failed:\n{tail}")


def zero_missing(root: Path, pairs: list[tuple[str, str]]) -> None:
    """Give every (student, assignment) without a submission in the gradebook one, scored 0:
    a folder with no notebook, or none readable, still gets its row."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    warnings.filterwarnings("ignore", module="nbgrader.api")  # SQLAlchemy 2 on nbgrader 0.9
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student, assignment in pairs:
            try:
                gb.find_submission(assignment, student)
                continue
            except MissingEntry:
                pass
            gb.update_or_create_student(student)
            submission = gb.add_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score, grade.needs_manual_grade = 0, False
            gb.db.commit()


def points_awaiting_a_person(root: Path) -> dict[tuple[str, str], float]:
    """{(student, assignment): points of the cells nbgrader marks as needing manual grading}:
    written answers (the discussion, 考察) that the formgrader lists for a person to grade."""
    import warnings

    from nbgrader.api import Gradebook
    warnings.filterwarnings("ignore", module="nbgrader.api")  # SQLAlchemy 2 on nbgrader 0.9
    waiting = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                waiting[(submission.student.id, assignment.name)] = sum(
                    grade.max_score for notebook in submission.notebooks
                    for grade in notebook.grades if grade.needs_manual_grade)
    return waiting


def export(root: Path, state: State) -> Path:
    """grades.csv: nbgrader's export of every student and assignment, plus status, note and
    needs_manual_grade (the points that wait for a person in the formgrader; 0 when none)."""
    raw = root / ".grading" / "nbgrader_export.csv"
    nbgrader(root, "export", f"--to={raw}")
    with open(raw, newline="") as f:
        rows = list(csv.DictReader(f))
    waiting = points_awaiting_a_person(root)
    for row in rows:
        entry = state.get(f"{row['student_id']}/{row['assignment']}")
        row["status"] = entry.get("status", "not submitted")
        row["note"] = entry.get("note", "")
        row["needs_manual_grade"] = f"{waiting.get((row['student_id'], row['assignment']), 0):g}"
    out = root / "grades.csv"
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["status"])
        writer.writeheader()
        writer.writerows(rows)
    return out


def submission_digest(root: Path, key: str, limits: sandbox.Limits) -> str:
    """Changes when the submission, the assignment's source or the limits change."""
    assignment = key.split("/")[1]
    # Threads follow the number of workers and do not change a score: not in the digest.
    limits_now = {k: v for k, v in dataclasses.asdict(limits).items() if k != "threads"}
    return digest(root / "submitted" / key, json.dumps(limits_now, sort_keys=True)
                  + digest(root / "source" / assignment, ""))


def check_course(root: Path, selected: list[str] | None) -> list[str]:
    """The assignments to grade; a GradeError for anything missing."""
    missing = sandbox.available()
    if missing:
        raise GradeError(missing)
    known = assignments_in_gradebook(root)
    unknown = sorted(set(selected or []) - set(known))
    if unknown:
        raise GradeError(f"not in the gradebook: {', '.join(unknown)} "
                         "(run `nbgrader generate_assignment` for it)")
    (root / ".grading").mkdir(exist_ok=True)
    return selected or known


def grade_submission(root: Path, key: str, limits: sandbox.Limits, force: bool = False,
                     worker: Worker | None = None) -> Outcome | None:
    """Grade one STUDENT/ASSIGNMENT and record it; None when it was graded already. Without a
    ``worker`` this starts its own: what one array job of a cluster runs (``--one``)."""
    state, now = State(root), submission_digest(root, key, limits)
    if not force and state.done(key, now):
        return None
    own = worker is None
    worker = worker or Worker(root, limits, root / ".grading" / "logs" / f"{key}.log")
    try:
        outcome = grade_one(root, *key.split("/"), worker)
    finally:
        if own:
            worker.close()
    state.record(key, now, outcome)
    return outcome


def record_class(root: Path, selected: list[str], feedback: bool = False) -> list[dict]:
    """After every submission ran: the gradebook (one writer), rows for the rest, grades.csv."""
    pairs = submissions(root, selected)
    for assignment in selected:
        if any((root / EXECUTED / s / assignment).is_dir() for s, a in pairs if a == assignment):
            merge(root, assignment)
    zero_missing(root, pairs)
    if feedback:
        for assignment in selected:
            nbgrader(root, "generate_feedback", assignment, "--force")
    with open(export(root, State(root)), newline="") as f:
        return list(csv.DictReader(f))


def grade_class(root: Path, selected: list[str] | None = None, workers: int | None = None,
                force: bool = False, feedback: bool = False, limits: sandbox.Limits | None = None,
                log=print) -> list[dict]:
    """Grade every submission of ``selected`` assignments (all in the gradebook by default);
    returns the rows of grades.csv."""
    root = root.resolve()
    selected = check_course(root, selected)
    limits = limits or read_limits()
    workers = workers or default_workers()
    state = State(root)
    keys = [f"{s}/{a}" for s, a in submissions(root, selected)]
    todo = [k for k in keys if force or not state.done(k, submission_digest(root, k, limits))]
    log(f"{len(keys)} submissions, {len(keys) - len(todo)} already graded, "
        f"{len(todo)} to grade with {workers} workers")
    if workers > 1:  # one kernel per core rather than every kernel on every core
        cores = len(os.sched_getaffinity(0))
        limits = dataclasses.replace(limits, threads=max(1, cores // workers))
    idle: queue.Queue[Worker] = queue.Queue()
    for i in range(workers):
        idle.put(Worker(root, limits, root / ".grading" / "logs" / f"worker{i}.log"))

    def grade_with_a_worker(key: str) -> Outcome:
        worker = idle.get()
        try:
            return grade_submission(root, key, limits, True, worker)
        finally:
            idle.put(worker)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in as_completed([pool.submit(grade_with_a_worker, k) for k in todo]):
                outcome = future.result()
                log(f"  {outcome.assignment:<18} {outcome.student:<24} {outcome.status:<22} "
                    f"{outcome.seconds:6.1f} s  {outcome.note[:60]}")
    finally:
        while not idle.empty():
            idle.get().close()
    return record_class(root, selected, feedback)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the nbgrader course folder (CourseDirectory.root)")
    parser.add_argument("-a", "--assignment", action="append", help="only this one (repeatable)")
    parser.add_argument("-j", "--workers", type=int, help="parallel submissions (default: cores)")
    parser.add_argument("--force", action="store_true", help="regrade what was graded already")
    parser.add_argument("--feedback", action="store_true", help="also generate feedback")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--list", action="store_true",
                         help="print STUDENT/ASSIGNMENT, one per line (array jobs index it)")
    cluster.add_argument("--one", metavar="STUDENT/ASSIGNMENT",
                         help="grade this submission only; no gradebook write (an array job)")
    cluster.add_argument("--record", action="store_true",
                         help="write what --one jobs graded into the gradebook and grades.csv")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        selected = check_course(root, args.assignment)
        if args.list:
            print("\n".join(f"{s}/{a}" for s, a in submissions(root, selected)))
            return 0
        if args.one:
            outcome = grade_submission(root, args.one, read_limits(), args.force)
            print(f"{args.one}: {outcome.status if outcome else 'graded already'}")
            return 0
        if args.record:
            rows = record_class(root, selected, args.feedback)
        else:
            rows = grade_class(root, selected, args.workers, args.force, args.feedback)
    except GradeError as err:
        print(f"make grade: {err}", file=sys.stderr)
        return 1
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    print(f"grades: {root / 'grades.csv'}  ("
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
