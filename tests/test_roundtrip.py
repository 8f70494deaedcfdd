"""The nbgrader round trip of every assignment, and release/ kept in sync with source/."""

import json

import pytest

from conftest import REPO

from autograder import roundtrip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    return root, roundtrip.run(root, log=lambda message: None)


def scores(rows, assignment):
    return {row["student_id"]: (row["score"], row["max_score"])
            for row in rows if row["assignment"] == assignment}


# (score, max_score) of every sample, as `make demo` prints them. A change in an assignment's
# tests, points or samples that moves a score must change this table too, on purpose.
# The maximum counts the 2 points of the written discussion, which a person grades: the
# reference's model answer waits for them (needs manual grading), the others left it blank (0).
EXPECTED_SCORES = {
    "01_perceptron": {"reference": (10, 12), "untouched": (0, 12), "partial": (4, 12)},
    "02_backprop": {"reference": (23, 25), "untouched": (0, 25), "partial": (11, 25)},
    "03_conv": {"reference": (20, 22), "untouched": (0, 22), "partial": (6, 22)},
    "04_mnist": {"reference": (20, 22), "untouched": (0, 22), "partial": (15, 22)},
    "05_regularization": {"reference": (20, 22), "untouched": (0, 22), "partial": (13, 22)},
    "06_transfer": {"reference": (20, 22), "untouched": (0, 22), "partial": (14, 22)},
}
# Points of written answers waiting for a person, per sample: the reference's only.
EXPECTED_WAITING = {"reference": 2, "untouched": 0, "partial": 0}


def test_every_assignment_has_pinned_scores():
    assert sorted(EXPECTED_SCORES) == roundtrip.assignments()


@pytest.mark.parametrize("assignment", roundtrip.assignments())
def test_every_sample_gets_its_exact_score(graded, assignment):
    """reference full marks, untouched 0, partial exactly its pinned score: not merely between."""
    _, rows = graded
    assert scores(rows, assignment) == EXPECTED_SCORES[assignment]


@pytest.mark.parametrize("assignment", roundtrip.assignments())
def test_written_answers_wait_for_manual_grading(graded, assignment):
    """Through nbgrader's API, as the formgrader lists them: the reference's written discussion
    needs manual grading (2 points), a blank one was scored 0 by itself; grades.csv and
    `make demo`'s table say the same."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    root, rows = graded
    course = CourseDirectory(root=str(root), course_id="dl-image-recognition")  # nbgrader_config
    api = NbGraderAPI(coursedir=course)
    listed = {nb["student"]: nb["needs_manual_grade"]
              for nb in api.get_notebook_submissions(assignment, assignment)}
    assert listed == {student: points > 0 for student, points in EXPECTED_WAITING.items()}
    with api.gradebook as gb:
        for student, points in EXPECTED_WAITING.items():
            answer = gb.find_grade("discussion", assignment, assignment, student)
            assert (answer.max_score, answer.needs_manual_grade) == (2, points > 0), student
            assert answer.auto_score == (None if points else 0), student
    waiting = {row["student_id"]: row["needs_manual_grade"]
               for row in rows if row["assignment"] == assignment}
    assert waiting == EXPECTED_WAITING
    line = next(line for line in roundtrip.score_table(rows).splitlines()
                if line.startswith(assignment))
    assert line.split()[1:] == [f"{score:g}/{top:g}" + ("*" if EXPECTED_WAITING[student] else "")
                                for student, (score, top) in EXPECTED_SCORES[assignment].items()]
    assert "needs manual grading" in roundtrip.score_table(rows)


def test_every_sample_is_graded_in_the_sandbox(graded):
    _, rows = graded
    assert {row["status"] for row in rows} == {"graded"}
    assert len(rows) == len(roundtrip.assignments()) * len(roundtrip.STUDENTS)


def test_feedback_is_generated(graded):
    root, _ = graded
    for assignment in roundtrip.assignments():
        for student in roundtrip.STUDENTS:
            assert list((root / "feedback" / student / assignment).glob("*.html"))


def html_text(pages):
    """The text a student reads in feedback pages (tags removed, entities decoded)."""
    import html
    import re
    return html.unescape(re.sub(r"<[^>]+>", "", "".join(p.read_text() for p in pages)))


def _feedback_text(root, student, assignment):
    return html_text((root / "feedback" / student / assignment).glob("*.html"))


def test_artifact_grading_explains_a_missing_or_wrong_model(graded):
    """04_mnist grades the saved model: none saved, or a saved accuracy that is not what the
    grader measures, scores 0 on those cells with a sentence saying why."""
    root, rows = graded
    untouched = _feedback_text(root, "untouched", "04_mnist")
    assert "no trained model found: artifacts/cnn_state.pt is missing" in untouched
    partial = _feedback_text(root, "partial", "04_mnist")
    assert "which is not a fraction between 0 and 1" in partial
    assert "the grader measures" in partial


def _region_lines(assignment, region_name):
    """Lines of a source notebook's `### BEGIN <region_name>` regions that occur nowhere
    outside them and are long enough (20+ characters) to be specific."""
    path = REPO / "source" / assignment / f"{assignment}.ipynb"
    regions, elsewhere = [], []
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        before, marker, rest = source.partition(f"### BEGIN {region_name}")
        region, _, after = rest.partition(f"### END {region_name}")
        regions.append(region if marker else "")
        elsewhere.append(before + after)
    outside = "\n".join(elsewhere)
    return [line.strip() for region in regions for line in region.splitlines()
            if len(line.strip()) >= 20 and line.strip() not in outside]


def _hidden_lines(assignment):
    return _region_lines(assignment, "HIDDEN TESTS")


def _solution_lines(assignment):
    return _region_lines(assignment, "SOLUTION")


@pytest.mark.parametrize("assignment", roundtrip.assignments())
def test_release_and_feedback_show_no_solution_code(graded, assignment):
    """Neither the released notebook nor the feedback of a student who did not write a solution
    shows a line of it (the partial student's feedback shows only the cells it solved)."""
    root, _ = graded
    lines = _solution_lines(assignment)
    assert lines, f"{assignment} has no solution lines to look for"
    notebook = json.loads((REPO / "release" / assignment / f"{assignment}.ipynb").read_text())
    released = "\n".join("".join(cell["source"]) for cell in notebook["cells"])
    assert [line for line in lines if line in released] == []
    assert [line for line in lines if line in _feedback_text(root, "untouched", assignment)] == []
    # The partial student's own notebook may hold some solution lines; no other may show.
    reference = json.loads((REPO / "source" / assignment / f"{assignment}.ipynb").read_text())
    submitted = roundtrip.partial_notebook(notebook, reference, roundtrip._load_sample(assignment))
    theirs = "\n".join("".join(cell["source"]) for cell in submitted["cells"])
    unsolved = [line for line in lines if line not in theirs]
    partial = _feedback_text(root, "partial", assignment)
    assert [line for line in unsolved if line in partial] == []


@pytest.mark.parametrize("assignment", roundtrip.assignments())
def test_feedback_shows_no_hidden_test_code(graded, assignment):
    """Feedback clears hidden tests and cuts tracebacks (which quote source lines) to one line;
    the failure messages themselves stay."""
    root, _ = graded
    hidden = _hidden_lines(assignment)
    assert hidden, f"{assignment} has no hidden test lines to look for"
    for student in roundtrip.STUDENTS:
        text = _feedback_text(root, student, assignment)
        assert "BEGIN HIDDEN TESTS" not in text
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{student}'s feedback on {assignment} shows hidden code: {leaked[:3]}"
        assert "Traceback (most recent call last)" not in text


def test_source_with_a_trained_model_is_refused(tmp_path, monkeypatch):
    """A source folder holding artifacts/ would hand the instructor's model to every student."""
    (tmp_path / "source" / "04_mnist" / "artifacts").mkdir(parents=True)
    monkeypatch.setattr(roundtrip, "REPO", tmp_path)
    with pytest.raises(roundtrip.RoundTripError, match="hand it to every student"):
        roundtrip.check_source_clean("04_mnist")


def _notebooks(folder):
    return {p.relative_to(folder): p for p in folder.rglob("*") if p.is_file()}


def test_release_is_in_sync_with_source(graded):
    root, _ = graded
    generated, committed = _notebooks(root / "release"), _notebooks(REPO / "release")
    assert sorted(committed) == sorted(generated), "run `make release` and commit release/"
    for name, path in generated.items():
        if path.suffix == ".ipynb":
            same = json.loads(path.read_text()) == json.loads(committed[name].read_text())
        else:
            same = path.read_bytes() == committed[name].read_bytes()
        assert same, f"release/{name} is stale: run `make release` and commit it"


def test_release_leaks_no_solutions_hidden_tests_or_litter():
    for path in (REPO / "release").rglob("*"):
        assert not any(part in {"__pycache__", ".ipynb_checkpoints"} for part in path.parts), path
        assert path.suffix not in {".pyc", ".pt", ".pth"}, path
        if path.suffix == ".ipynb":
            text = path.read_text()
            for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
                assert marker not in text, f"{marker} in {path}"


def test_partial_sample_naming_a_missing_cell_is_refused():
    notebook = {"cells": [{"source": "", "metadata": {"nbgrader": {"grade_id": "a"}}}]}
    with pytest.raises(roundtrip.RoundTripError, match="do not exist"):
        roundtrip.partial_notebook(notebook, notebook, {"solved": ["b"], "written": {}})
