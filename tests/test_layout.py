"""The tree shows the course: topic N has one stem x, and every place of a topic uses it.

    course/NN_x.ipynb  course/ja/NN_x.ipynb (its Japanese edition, labutils.edition)
    source/NN_x/NN_x.ipynb  release/NN_x/NN_x.ipynb  labutils/x.py
    tests/test_x.py    autograder/samples/NN_x/partial.py  autograder/mistakes/NN_x.py
    autograder/rubrics/NN_x.md

A topic found in any one place must be in all of them; each topic module opens with the line
naming its lecture, assignment and tests, and draws nothing (figures live in labutils.plots).
"""

import ast
import re

import pytest

from conftest import REPO

NUMBERED = re.compile(r"^(\d\d)_([a-z0-9]+)$")


def _stems(paths):
    """{"NN_x" stem} of the names in paths that follow the pattern."""
    return {path.stem if path.is_file() else path.name for path in paths
            if NUMBERED.match(path.stem if path.is_file() else path.name)}


def found_topics():
    """Every "NN_x" that any of the numbered places holds."""
    places = [REPO.glob("course/*.ipynb"), REPO.glob("source/*"), REPO.glob("release/*"),
              REPO.glob("autograder/samples/*"), REPO.glob("autograder/mistakes/*.py")]
    return sorted(set().union(*(_stems(paths) for paths in places)))


TOPICS = found_topics()


def places(topic):
    """The files topic "NN_x" must have."""
    stem = NUMBERED.match(topic).group(2)
    return [f"course/{topic}.ipynb", f"course/ja/{topic}.ipynb", f"source/{topic}/{topic}.ipynb",
            f"release/{topic}/{topic}.ipynb", f"labutils/{stem}.py", f"tests/test_{stem}.py",
            f"autograder/samples/{topic}/partial.py", f"autograder/mistakes/{topic}.py",
            f"autograder/rubrics/{topic}.md"]


def test_the_six_topics_are_found():
    assert TOPICS == ["01_perceptron", "02_backprop", "03_conv", "04_mnist",
                      "05_regularization", "06_transfer"]


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_all_its_places(topic):
    missing = [path for path in places(topic) if not (REPO / path).is_file()]
    assert not missing, f"topic {topic} lacks {missing}"


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_module_opens_with_its_places(topic):
    number, stem = NUMBERED.match(topic).groups()
    module = REPO / "labutils" / f"{stem}.py"
    first = ast.get_docstring(ast.parse(module.read_text())).splitlines()[0]
    assert first == (f"Topic {int(number)}: course/{topic}.ipynb, source/{topic}/, "
                     f"tests/test_{stem}.py")


def _imported_modules(path):
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    return names | {node.module or "" for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom)}


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_modules_draw_nothing(topic):
    stem = NUMBERED.match(topic).group(2)
    imported = _imported_modules(REPO / "labutils" / f"{stem}.py")
    assert not [name for name in imported if name.split(".")[0] in {"matplotlib", "ipywidgets"}]


def test_nothing_edits_sys_path():
    """autograder/ is an installed package: nothing needs sys.path to find it."""
    files = [REPO / "nbgrader_config.py", *REPO.glob("autograder/**/*.py"),
             *REPO.glob("tests/*.py"), *REPO.glob("bench/*.py")]
    edits = [str(path.relative_to(REPO)) for path in files
             if "sys.path." + "insert" in path.read_text()
             or "sys.path." + "append" in path.read_text()]
    assert edits == []
