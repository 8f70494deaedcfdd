"""pytest setup for the whole checkout: tests/, and the notebooks of course/ and source/."""

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def pytest_sessionfinish(session, exitstatus):
    """Running a source/ notebook (nbval) trains a model and saves it in artifacts/ beside the
    notebook. Remove it: nbgrader would copy an instructor's trained model to every student
    (autograder/roundtrip.py refuses to run while one is there)."""
    for folder in REPO.glob("source/*/artifacts"):
        shutil.rmtree(folder, ignore_errors=True)


_LANG_BEFORE = os.environ.get("LABUTILS_LANG")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A notebook of course/ja/ runs in Japanese, as on a hub that sets LABUTILS_LANG=ja: its
    kernel, started while the notebook's first cell is set up, inherits the setting, so the
    plots and printed lines speak Japanese. Every other test sees the setting it had."""
    path = Path(str(item.fspath)).resolve()
    if path.parent == REPO / "course" / "ja":
        os.environ["LABUTILS_LANG"] = "ja"
    elif _LANG_BEFORE is None:
        os.environ.pop("LABUTILS_LANG", None)
    else:
        os.environ["LABUTILS_LANG"] = _LANG_BEFORE
