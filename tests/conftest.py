"""Shared test setup: a non-interactive matplotlib backend and the repository root."""

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """Messages in English whatever the machine's locale (tests of Japanese ask for it)."""
    monkeypatch.setenv("LABUTILS_LANG", "en")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def run_as_cell(source: str) -> dict:
    """The namespace left by running ``source`` as a notebook cell (module ``__main__``)."""
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<notebook cell>", "exec"), namespace)
    return namespace
