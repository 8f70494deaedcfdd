"""Grade the mistake bank, the correct alternatives and a seeded sample of mechanical mutants
with a real `make grade`, and say how well the graders did (`make mutants`).

    python autograder/mistakes/grade_mistakes.py [-a 01_perceptron]... [--mutants 30]
                                                 [--root build/mutants]

Prints one table of mistakes (the test cells that caught each, points lost, the exact one-line
message the student sees, whether it names the mistake), the alternatives' scores, the mutants
that survived, and per assignment: bank size, caught, named, mutants killed, alternatives
passed. Exits 1 when a target is missed (every mistake caught, at least 80 % named, every
alternative full marks, at least 90 % of the non-equivalent mutants killed).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import shutil
import sys
from pathlib import Path

from autograder import mutants as mutation
from autograder import submissions as sub

HERE = Path(__file__).resolve().parent

REPO = HERE.parents[1]
HONEST = "honest"
TARGETS = {"caught": 1.0, "named": 0.8, "alternatives": 1.0, "killed": 0.9}


def bank(assignment: str):
    """The assignment's mistake module (autograder/mistakes/NN_x.py)."""
    return importlib.import_module(f"autograder.mistakes.{assignment}") if (
        HERE / f"{assignment}.py").exists() else None


def assignments_with_banks() -> list[str]:
    return sorted(p.stem for p in HERE.glob("[0-9][0-9]_*.py"))


def sampled_mutants(assignment: str, count: int, seed: int = 0) -> list[mutation.Mutant]:
    notebook = sub.reference(assignment)
    code_cells = [cell for cell in notebook["cells"]  # written answers are graded by hand
                  if sub.is_solution(cell) and cell["cell_type"] == "code"]
    found = [m for cell in code_cells
             for m in mutation.mutants(sub.source_of(cell), sub.grade_id(cell))]
    return mutation.sample(found, count, seed)


def needs_artifacts(assignment: str) -> bool:
    from autograder import roundtrip
    return roundtrip._load_sample(assignment)["run_before_submit"]


def run_like_a_student(folder: Path) -> None:
    from autograder import roundtrip
    roundtrip.run_like_a_student(folder)


def plan(assignment: str, mutant_count: int) -> list[dict]:
    """Every submission of one assignment: {student, kind, name, notebook, ...}."""
    module, reference = bank(assignment), sub.reference(assignment)
    items = [{"student": f"{HONEST}_{assignment[:2]}", "kind": "honest", "name": HONEST,
              "notebook": reference}]
    for i, mistake in enumerate(getattr(module, "MISTAKES", [])):
        items.append({"student": f"m{assignment[:2]}_{i:02d}", "kind": "mistake",
                      "name": mistake.name, "cell": mistake.cell, "named_by": mistake.named_by,
                      "notebook": sub.set_cell(reference, mistake.cell, mistake.code)})
    for i, alternative in enumerate(getattr(module, "ALTERNATIVES", [])):
        notebook = reference
        for cell, code in alternative.cells.items():
            notebook = sub.set_cell(notebook, cell, code)
        items.append({"student": f"a{assignment[:2]}_{i:02d}", "kind": "alternative",
                      "name": alternative.name, "notebook": notebook})
    equivalent = getattr(module, "EQUIVALENT", {})
    for i, mutant in enumerate(sampled_mutants(assignment, mutant_count)):
        items.append({"student": f"x{assignment[:2]}_{i:02d}", "kind": "mutant",
                      "name": mutant.name, "equivalent": equivalent.get(mutant.name, ""),
                      "notebook": sub.set_cell(reference, mutant.cell, mutant.code)})
    return items


def build(root: Path, selected: list[str], mutant_count: int) -> dict[str, list[dict]]:
    sub.new_course(root, selected)
    plans = {}
    for assignment in selected:
        plans[assignment] = plan(assignment, mutant_count)
        honest = root / "submitted" / plans[assignment][0]["student"] / assignment
        for item in plans[assignment]:
            sub.write_notebook(root / "submitted" / item["student"] / assignment, assignment,
                               item["notebook"])
        if needs_artifacts(assignment):
            run_like_a_student(honest)  # the honest student's trained model, shared by all
            for item in plans[assignment][1:]:
                shutil.copytree(honest / "artifacts",
                                root / "submitted" / item["student"] / assignment / "artifacts")
    return plans


def score_of(rows: dict, student: str, assignment: str) -> float:
    return float(rows[(student, assignment)]["score"])


def evaluate(root: Path, plans: dict[str, list[dict]]) -> dict:
    with open(root / "grades.csv", newline="") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    results = []
    for assignment, items in plans.items():
        honest = items[0]["student"]
        best = score_of(rows, honest, assignment)
        passed_by_honest = set(sub.cell_messages(root, honest, assignment)) == set()
        for item in items[1:]:
            messages = sub.cell_messages(root, item["student"], assignment)
            score = score_of(rows, item["student"], assignment)
            named = any(phrase.lower() in message.lower() for phrase in item.get("named_by", ())
                        for message in messages.values())
            results.append({"assignment": assignment, "kind": item["kind"], "name": item["name"],
                            "student": item["student"], "score": score, "honest": best,
                            "lost": best - score, "caught_by": sorted(messages),
                            "message": next(iter(messages.values()), ""), "named": named,
                            "equivalent": item.get("equivalent", ""),
                            "status": rows[(item["student"], assignment)]["status"],
                            "honest_clean": passed_by_honest})
    return {"results": results, "summary": summarize(results, list(plans))}


def summarize(results: list[dict], assignments: list[str]) -> dict:
    summary = {}
    for assignment in assignments:
        mine = [r for r in results if r["assignment"] == assignment]
        mistakes = [r for r in mine if r["kind"] == "mistake"]
        alternatives = [r for r in mine if r["kind"] == "alternative"]
        mutants = [r for r in mine if r["kind"] == "mutant"]
        counted = [r for r in mutants if not r["equivalent"]]
        summary[assignment] = {
            "bank": len(mistakes), "caught": sum(r["lost"] > 0 for r in mistakes),
            "named": sum(r["named"] for r in mistakes),
            "alternatives": len(alternatives),
            "alternatives_full": sum(r["lost"] == 0 for r in alternatives),
            "mutants": len(mutants), "equivalent": len(mutants) - len(counted),
            "killed": sum(r["lost"] > 0 for r in counted)}
    return summary


def misses(summary: dict) -> list[str]:
    """Every target missed, one line each ([] when all are met)."""
    found = []
    for assignment, s in summary.items():
        if s["bank"] < 10:
            found.append(f"{assignment}: {s['bank']} mistakes in the bank, at least 10 wanted")
        if s["caught"] < s["bank"] * TARGETS["caught"]:
            found.append(f"{assignment}: {s['bank'] - s['caught']} mistakes lose no point")
        if s["named"] < s["bank"] * TARGETS["named"]:
            found.append(f"{assignment}: {s['named']} of {s['bank']} mistakes named (80 %)")
        if s["alternatives"] < 2 or s["alternatives_full"] < s["alternatives"]:
            found.append(f"{assignment}: {s['alternatives_full']} of {s['alternatives']} "
                         "alternatives full marks (at least 2, all)")
        counted = s["mutants"] - s["equivalent"]
        if counted and s["killed"] < counted * TARGETS["killed"]:
            found.append(f"{assignment}: {s['killed']} of {counted} mutants killed (90 %)")
    return found


def table(report: dict) -> str:
    lines = ["mistake".ljust(44) + "lost  caught by".ljust(34) + "named  message"]
    for r in report["results"]:
        if r["kind"] == "mistake":
            lines.append(f"{r['assignment'][:2]} {r['name'][:40]:<41}{r['lost']:>4g}  "
                         f"{','.join(r['caught_by'])[:28]:<28}  {'yes' if r['named'] else 'no':<5}"
                         f"  {r['message'][:150]}")
    lines.append("")
    for r in report["results"]:
        if r["kind"] == "alternative":
            lines.append(f"alternative {r['assignment'][:2]} {r['name']:<40} "
                         f"{r['score']:g}/{r['honest']:g}")
    survivors = [r for r in report["results"] if r["kind"] == "mutant" and r["lost"] == 0]
    lines.append("")
    for r in survivors:
        lines.append(f"surviving mutant {r['name']:<40} "
                     f"{('equivalent: ' + r['equivalent']) if r['equivalent'] else 'GAP'}")
    lines.append("")
    lines.append(f"{'assignment':<20}{'bank':>5}{'caught':>8}{'named':>7}{'mutants':>9}"
                 f"{'equiv':>7}{'killed':>8}{'alternatives':>14}")
    for assignment, s in report["summary"].items():
        lines.append(f"{assignment:<20}{s['bank']:>5}{s['caught']:>8}{s['named']:>7}"
                     f"{s['mutants']:>9}{s['equivalent']:>7}{s['killed']:>8}"
                     f"{s['alternatives_full']:>8}/{s['alternatives']}")
    return "\n".join(lines)


def run(root: Path, selected: list[str], mutant_count: int) -> dict:
    root = root.resolve()
    plans = build(root, selected, mutant_count)
    # the bank names its mistakes by English phrases: the class graded here reads English
    os.environ["LABUTILS_LANG"] = "en"
    sub.make_grade(root)
    return evaluate(root, plans)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--assignment", action="append",
                        help="only this assignment (default: every one with a bank)")
    parser.add_argument("--mutants", type=int, default=30, help="mutants per assignment")
    parser.add_argument("--root", type=Path, default=REPO / "build" / "mutants")
    args = parser.parse_args(argv)
    report = run(args.root, args.assignment or assignments_with_banks(), args.mutants)
    print(table(report))
    (args.root / "report.json").write_text(json.dumps(report, indent=1))
    missed = misses(report["summary"])
    for line in missed:
        print(f"target missed: {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
