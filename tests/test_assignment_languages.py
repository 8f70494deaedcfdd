"""Every assignment speaks both languages: each instruction cell carries its Japanese after the
English, and no check's message is written in one language only.

The form of a bilingual instruction cell (one notebook serves every student; nbgrader grades
one notebook per assignment)::

    <English markdown>

    <div lang="ja">

    <Japanese markdown>

    </div>

Messages go through ``labutils.i18n.say(en, ja)``; a message written as a plain string literal
or f-string exists in one language only, so it is caught here, in the source notebooks (the
hidden tests included) that release/ is generated from.
"""

import ast
import re

import pytest

from autograder import submissions as sub
from conftest import REPO
from labutils import edition

ASSIGNMENTS = sorted(p for p in (REPO / "source").iterdir() if p.is_dir())
JA_BLOCK = re.compile(r"\n\n<div lang=\"ja\">\n\n(?P<ja>.+)\n\n</div>\s*$", re.S)
# nbgrader's magic lines in test cells are comments; IPython magics are not Python
# instructions name shapes and symbols such as (N, C, H, W) outside code spans: half the letters
# must be Japanese (the lectures' Japanese edition asks for 80 %, labutils.edition.MIN_SHARE)
MIN_SHARE = 0.5
MAGIC = re.compile(r"^\s*[%!].*$", re.M)
# the parameters of labutils.grading's checks that end up inside the message a student reads
MESSAGE_KEYWORDS = {"what", "hint", "message"}
# ... and where they stand when passed by position: raise X(message), assert_close(a, b, what)
MESSAGE_POSITION = {"AssertionError": 0, "ValueError": 0, "TypeError": 0, "assert_close": 2,
                    "assert_shape": 2, "assert_type": 2, "assert_claim_matches": 2}
WORDS = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")


def _instruction_cells(folder):
    """The markdown cells a student reads (not the answer cells the student writes in)."""
    return [cell for cell in sub.reference(folder.name)["cells"]
            if cell["cell_type"] == "markdown" and not sub.is_solution(cell)]


@pytest.mark.parametrize("folder", ASSIGNMENTS, ids=lambda p: p.name)
def test_every_instruction_cell_has_its_japanese(folder):
    problems = []
    for cell in _instruction_cells(folder):
        text = "".join(cell["source"])
        found = JA_BLOCK.search(text)
        start = text.strip().splitlines()[0][:60]
        if not found:
            problems.append(f"no <div lang=\"ja\"> block at the end of: {start}")
        elif not text[:found.start()].strip():
            problems.append(f"a Japanese block without its English: {start}")
        elif edition.native_share(found["ja"]) < MIN_SHARE:
            problems.append(f"the Japanese block is mostly not Japanese: {start}")
    assert not problems, f"{folder.name}:\n" + "\n".join(problems)


def _literal_text(node) -> str | None:
    """The constant text of a message written as a literal (a string, an f-string, a sum of
    them, or "...".format(...)); None when it is not one (a call of ``say``, a name)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(_literal_text(v) or "" for v in node.values)
    if isinstance(node, ast.BinOp):
        parts = [_literal_text(node.left), _literal_text(node.right)]
        return None if parts == [None, None] else " ".join(p or "" for p in parts)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return _literal_text(node.func.value)
    return None


def _one_language(node) -> bool:
    """A literal message with words in it ("got 3, expected 4"); code alone such as
    "relu_grad([-2, 0, 3])" reads the same in every language."""
    text = _literal_text(node)
    return text is not None and WORDS.search(text) is not None


def one_language_messages(code: str) -> list[str]:
    """The lines of ``code`` whose check message is not written through ``say``."""
    found = []
    for node in ast.walk(ast.parse(MAGIC.sub("", code))):
        if isinstance(node, ast.Assert) and node.msg is not None and _one_language(node.msg):
            found.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            messages = [k.value for k in node.keywords if k.arg in MESSAGE_KEYWORDS]
            messages += node.args[MESSAGE_POSITION[name]:MESSAGE_POSITION[name] + 1] \
                if name in MESSAGE_POSITION else []
            if any(_one_language(m) for m in messages):
                found.append(node.lineno)
    lines = code.splitlines()
    return [lines[n - 1].strip()[:100] for n in sorted(set(found))]


def test_the_scanner_tells_one_language_from_two():
    code = ('assert ok, f"got {x}, expected 4"\n'
            'assert ok, say("got {x}", "{x} が返った", x=x)\n'
            'raise AssertionError("wrong answer")\n'
            'assert_close(a, b, "Affine.forward(x)", hint=say("transposed?", "転置?"))\n'
            'assert_close(a, b, what=f"layer {i} output")\n'
            'assert ok, "an error: " + say("b", "ビ")\n'
            'assert_close(a, b, "relu_grad([-2, 0, 3])")\n'
            'assert_close(a, b, "the Affine forward")\n'
            'raise AssertionError(say("wrong", "誤り"))\n')
    assert one_language_messages(code) == [
        'assert ok, f"got {x}, expected 4"', 'raise AssertionError("wrong answer")',
        'assert_close(a, b, what=f"layer {i} output")', 'assert ok, "an error: " + say("b", "ビ")',
        'assert_close(a, b, "the Affine forward")']


@pytest.mark.parametrize("folder", ASSIGNMENTS, ids=lambda p: p.name)
def test_every_check_message_exists_in_both_languages(folder):
    """In the cells the course wrote: tests, set-up, helpers (not the student's answer cells,
    whose code is the student's and must not need labutils)."""
    problems = [f"{sub.grade_id(cell) or '?'}: {line}"
                for cell in sub.reference(folder.name)["cells"]
                if cell["cell_type"] == "code" and not sub.is_solution(cell)
                for line in one_language_messages("".join(cell["source"]))]
    assert not problems, (f"{folder.name}: messages in one language only (write them with "
                          "labutils.i18n.say):\n" + "\n".join(problems))
