"""Grade the hostile submissions (cases.py) with a real `make grade` and check what leaked.

    python autograder/hostile/grade_hostile.py [--root build/hostile]     # prints one line per case

A course folder of its own (source/ copied, never linked: a case that escaped would write into
a copy), one honest student per assignment (the reference solution) beside the cases, a TCP
listener on loopback that counts connections, and a marker string that every file and process
a case leaves behind carries. After grading it reports, for each case, the score against the
honest student's, the status, and whether the case got what it expected; and for the whole run
what reached outside: connections, files, processes, and whether the gradebook still reads.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import socket
import sqlite3
import sys
import threading
from pathlib import Path

from autograder import roundtrip
from autograder import submissions as sub
from autograder.hostile import cases as hostile

HERE = Path(__file__).resolve().parent

REPO = HERE.parents[1]
HONEST = "honest"


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self):
        self.server.close()


def write_submission(folder: Path, built) -> None:
    """A case's build result into its submission folder: a notebook, raw text, a symlink,
    or (None) only a README."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{folder.name}.ipynb"
    if built is None:
        (folder / "README.txt").write_text("I could not get it to work, sorry.\n")
    elif isinstance(built, tuple) and built[0] == "symlink":
        (folder / name).symlink_to(built[1])
    elif isinstance(built, str):
        (folder / name).write_text(built)
    else:
        (folder / name).write_text(json.dumps(built, indent=1))


def needs_artifacts(assignment: str) -> bool:
    return roundtrip._load_sample(assignment)["run_before_submit"]


def prepare(root: Path, selected: list[hostile.Case], marker: str, port: int) -> None:
    assignments = sorted({case.assignment for case in selected})
    sub.new_course(root, assignments)
    for assignment in assignments:
        honest = root / "submitted" / HONEST / assignment
        shutil.copytree(root / "source" / assignment, honest)
        if needs_artifacts(assignment):
            roundtrip.run_like_a_student(honest)
    context = {"root": root, "port": port, "marker": marker}
    for case in selected:
        folder = root / "submitted" / case.name / case.assignment
        write_submission(folder, case.build(context))
        artifacts = root / "submitted" / HONEST / case.assignment / "artifacts"
        if artifacts.is_dir() and (folder / f"{case.assignment}.ipynb").is_file():
            shutil.copytree(artifacts, folder / "artifacts")


def strays(marker: str) -> list[int]:
    """Processes whose command line carries the marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def marker_files(marker: str, root: Path) -> list[str]:
    """Files named after the marker anywhere a case tried to write (course, repo, homes, /tmp)."""
    places = [root, root.parent, REPO, Path.home(), Path("/tmp"), Path("/root"), Path("/")]
    found = []
    for place in places:
        try:
            found += [str(p) for p in place.glob(f"**/{marker}" if place in (root,) else marker)]
            found += [str(p) for p in place.glob(f"source/{marker}")]
        except OSError:
            continue
    return sorted(set(found))


def gradebook_readable(root: Path) -> bool:
    db = root / "gradebook.db"
    if db.read_bytes()[:16] != b"SQLite format 3\x00":
        return False
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM grade").fetchone()[0] > 0


def verdict(expected: str, score: float, honest: float) -> bool:
    return {"zero": score == 0, "below": score < honest,
            "equal": score == honest}[expected]


def run(root: Path, selected: list[hostile.Case] | None = None) -> dict:
    selected = selected or hostile.CASES
    root = root.resolve()
    marker = f"hostile-{secrets.token_hex(6)}"
    listener = Listener()
    try:
        prepare(root, selected, marker, listener.port)
        output = sub.make_grade(root)
    finally:
        listener.close()
    with open(root / "grades.csv", newline="") as f:
        listed = list(csv.DictReader(f))
    rows = {(r["student_id"], r["assignment"]): r for r in listed}
    results = []
    for case in selected:
        row, honest = rows[(case.name, case.assignment)], rows[(HONEST, case.assignment)]
        score, best = float(row["score"]), float(honest["score"])
        # the most the autograder gives: written answers wait for a person
        autograded_max = float(row["max_score"]) - sub.manual_points(case.assignment)
        results.append({"case": case.name, "assignment": case.assignment,
                        "score": score, "max": autograded_max, "honest": best,
                        "expected_score": case.score, "status": row["status"],
                        "expected_status": case.status, "note": row["note"],
                        "ok": verdict(case.score, score, best) and row["status"] == case.status})
    honest_rows = [r for (s, _), r in rows.items() if s == HONEST]
    return {"results": results, "connections": listener.accepted,
            "strays": strays(marker), "files": marker_files(marker, root),
            "gradebook_readable": gradebook_readable(root),
            "honest_full": all(float(r["score"]) + float(r["needs_manual_grade"])
                               == float(r["max_score"]) for r in honest_rows),
            "row_keys": [[r["student_id"], r["assignment"]] for r in listed], "log": output}


def table(report: dict) -> str:
    lines = [f"{'case':<28}{'asg':>4}{'score':>9}{'honest':>8}  {'expected':<8}"
             f"{'status':<22}{'ok':>3}"]
    for r in report["results"]:
        lines.append(f"{r['case']:<28}{r['assignment'][:2]:>4}{r['score']:>6g}/{r['max']:<3g}"
                     f"{r['honest']:>7g}  {r['expected_score']:<8}{r['status']:<22}"
                     f"{'yes' if r['ok'] else 'NO':>3}")
    ok = sum(r["ok"] for r in report["results"])
    lines.append(f"{ok} of {len(report['results'])} as expected; connections "
                 f"{report['connections']}, stray processes {len(report['strays'])}, files "
                 f"outside {len(report['files'])}, gradebook readable "
                 f"{report['gradebook_readable']}, honest students full marks "
                 f"{report['honest_full']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO / "build" / "hostile")
    parser.add_argument("-c", "--case", action="append", help="only this case (repeatable)")
    args = parser.parse_args(argv)
    chosen = [c for c in hostile.CASES if not args.case or c.name in args.case]
    report = run(args.root, chosen)
    print(table(report))
    os.makedirs(args.root, exist_ok=True)
    (args.root / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return 0 if all(r["ok"] for r in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
