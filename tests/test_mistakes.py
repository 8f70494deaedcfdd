"""The graders graded: every banked mistake loses points with a message that names it, every
correct alternative gets full marks, and mechanical mutants die (autograder/mistakes/).

`make test` grades, with a real `make grade`, the whole bank, every alternative and the first
MUTANTS_IN_TEST of each assignment's seeded mutant sample (218 submissions: at the 4.7 s each
of the last measured run, about half of the suite's time), and fails when a target is missed.
`make mutants` grades the full sample of 30 per assignment and prints the table (the note's
figures come from it); the sample of make test is the start of the same shuffled list, so it
is part of that table."""

import pytest


from autograder import mutants
from autograder.mistakes import grade_mistakes as suite

BANKS = suite.assignments_with_banks()


# 6 per assignment (36 in all) keep the kill-rate target enforced; each more adds 6
# submissions, about 30 s of the fresh-clone CI's 45 minutes
MUTANTS_IN_TEST = 6


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return suite.run(tmp_path_factory.mktemp("mutants") / "course", BANKS,
                     mutant_count=MUTANTS_IN_TEST)


def test_every_bank_replaces_real_solution_cells():
    for assignment in BANKS:
        honest, *others = suite.plan(assignment, 0)
        assert len([o for o in others if o["kind"] == "mistake"]) >= 10, assignment
        for item in others:
            assert item["notebook"] != honest["notebook"], item["name"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", BANKS)
def test_targets_are_met(report, assignment):
    summary = {assignment: report["summary"][assignment]}
    assert suite.misses(summary) == [], suite.table(report)


@pytest.mark.slow
def test_the_honest_submissions_pass_every_test(report):
    assert all(r["honest_clean"] for r in report["results"])


def test_the_sample_in_make_test_is_part_of_make_mutants_sample():
    for assignment in BANKS:
        full = {m.name for m in suite.sampled_mutants(assignment, 30)}
        assert {m.name for m in suite.sampled_mutants(assignment, MUTANTS_IN_TEST)} <= full


def test_mutants_are_single_edits_that_compile():
    code = "def f(x, y):\n    '''doc'''\n    z = x + 2 * y\n    return z > 0\n"
    found = mutants.mutants(code, "cell")
    names = [m.name for m in found]
    assert names == ["cell:0:delete-body-1", "cell:0:delete-body-2", "cell:5:Add->Sub",
                     "cell:9:Mult->Div", "cell:11:2->3", "cell:14:return-None", "cell:15:Gt->GtE",
                     "cell:18:0->1"]
    assert all("doc" in m.code for m in found), "docstrings are never mutated"
    for m in found:
        compile(m.code, m.name, "exec")
    assert mutants.sample(found, 3, seed=0) == mutants.sample(found, 3, seed=0)


def test_mutants_flip_flags_and_drop_filters_and_keywords():
    code = "def g(model, lr):\n    return opt([p for p in model if p.on], lr=lr, fused=True)\n"
    labels = {m.name.split(":")[2]: m.code for m in mutants.mutants(code, "cell")}
    assert "if p.on" not in labels["drop-if"]
    assert "lr=lr" not in labels["drop-lr="] and "fused=True" in labels["drop-lr="]
    assert "fused=False" in labels["True->False"]
    assert labels["return-None"].strip().endswith("return None")


def test_mutants_edit_only_what_the_student_writes():
    code = ("class Layer:\n    def forward(self, x):\n        return x + 1\n\n"
            "    def backward(self, d):\n        ### BEGIN SOLUTION\n        g = d * 2\n"
            "        return g - 1\n        ### END SOLUTION\n")
    found = mutants.mutants(code, "cell")
    assert found, "the solution region has operators to mutate"
    for m in found:
        assert "return x + 1" in m.code, f"{m.name} edits the given forward"
    assert mutants.solution_lines(code) == {7, 8}


@pytest.mark.slow
def test_a_japanese_class_gets_its_feedback_in_japanese(tmp_path, monkeypatch):
    """One setting (LABUTILS_LANG, passed by `make grade` to every sandboxed kernel) chooses
    the language of the messages the feedback shows: a banked mistake graded for a Japanese
    class is answered in Japanese, naming the mistake with the glossary's word."""
    from autograder import grade
    from autograder import submissions as sub
    from labutils import edition, glossary

    assignment = "01_perceptron"
    mistake = next(m for m in suite.bank(assignment).MISTAKES if "bias" in m.name)
    root = tmp_path / "course"
    sub.new_course(root, [assignment])
    sub.write_notebook(root / "submitted" / "kenji" / assignment, assignment,
                       sub.set_cell(sub.reference(assignment), mistake.cell, mistake.code))
    monkeypatch.setenv("LABUTILS_LANG", "ja")
    rows = grade.grade_class(root, [assignment], workers=1, feedback=True, log=lambda _: None)
    assert rows[0]["status"] == "graded" and float(rows[0]["score"]) < 10
    messages = sub.cell_messages(root, "kenji", assignment)
    assert messages, "the mistake failed no test cell"
    for message in messages.values():
        text = message.split(": ", 1)[1]  # without "AssertionError: "
        assert edition.native_share(text) > 0.5, f"not Japanese: {message}"
    assert any(glossary.term("bias", "ja") in m for m in messages.values()), messages
    html = (root / "feedback" / "kenji" / assignment / f"{assignment}.html").read_text()
    assert next(iter(messages.values())).split(": ", 1)[1][:20] in html
