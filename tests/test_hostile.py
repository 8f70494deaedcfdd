"""The hostile suite: every case of autograder/hostile/cases.py graded by a real `make grade`
beside an honest student per assignment, each outcome asserted, and nothing reaching outside."""


import pytest

from conftest import REPO

from autograder.hostile import cases
from autograder.hostile import grade_hostile as suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return suite.run(tmp_path_factory.mktemp("hostile") / "course")


def test_at_least_twenty_cases_on_every_assignment():
    assert len(cases.CASES) >= 20
    imported = {c.assignment for c in cases.CASES if c.name.startswith("reference_imported")}
    assert imported == {p.name for p in (REPO / "source").iterdir() if p.name[:2].isdigit()}


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.name)
def test_case_gets_what_it_deserves(report, case):
    result = next(r for r in report["results"] if r["case"] == case.name)
    assert result["status"] == case.status, result
    assert suite.verdict(case.score, result["score"], result["honest"]), (
        f"{case.name} ({case.why}) scored {result['score']:g}, honest {result['honest']:g}, "
        f"expected {case.score}")
    assert result["max"] == result["honest"] or case.score != "equal"


def test_no_connection_left_the_sandbox(report):
    assert report["connections"] == 0


def test_no_process_outlived_grading(report):
    assert report["strays"] == []


def test_nothing_was_written_outside_a_submission(report):
    assert report["files"] == []


def test_the_class_gradebook_still_reads_and_honest_students_keep_full_marks(report):
    assert report["gradebook_readable"]
    assert report["honest_full"]


def test_every_student_has_one_row_per_assignment(report):
    keys = [tuple(key) for key in report["row_keys"]]
    students = {s for s, _ in keys}
    assignments = {a for _, a in keys}
    assert len(keys) == len(set(keys)) == len(students) * len(assignments)
    assert {c.name for c in cases.CASES} | {suite.HONEST} == students
