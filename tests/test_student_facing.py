"""What students read never points at documents they do not have.

The course was written from five source documents (README.md, "Sources"). Students never see
them, and in these notebooks "seed" means a random seed, so "seed 002" or "the seed's CNN" in a
lecture, an assignment (prose, test messages) or labutils would name something unknown.
"""

import json
import re

import pytest

from conftest import REPO

# "seed" and the number may stand on two lines of a paragraph
SOURCE_REFERENCE = re.compile(r"\bseed[\s_-]*00\d|\bseed's\b|\bseed_cnn\b", re.I)


def student_facing_files():
    patterns = ["course/*.ipynb", "course/*.md", "source/*/*.ipynb", "release/*/*.ipynb",
                "labutils/*.py"]
    found = sorted({path for pattern in patterns for path in REPO.glob(pattern)})
    return found


def readable_text(path):
    """A notebook's cell sources joined (not its JSON, whose line breaks are escaped), or the
    file as it is."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text


def test_the_scan_covers_every_topic():
    names = {path.relative_to(REPO).as_posix() for path in student_facing_files()}
    for topic in ("01_perceptron", "02_backprop", "03_conv", "04_mnist", "05_regularization",
                  "06_transfer"):
        assert f"course/{topic}.ipynb" in names
        assert f"source/{topic}/{topic}.ipynb" in names
    assert "labutils/transfer.py" in names and "labutils/mnist.py" in names


@pytest.mark.parametrize("path", student_facing_files(),
                         ids=lambda path: path.relative_to(REPO).as_posix())
def test_no_reference_to_a_source_document(path):
    text = readable_text(path)
    hits = [" ".join(text[max(0, m.start() - 30):m.end() + 10].split())
            for m in SOURCE_REFERENCE.finditer(text)]
    assert not hits, (f"{path.name} names a source document students do not have "
                      f"({len(hits)} times), first: ...{hits[0]}...")


def test_the_pattern_finds_what_it_must():
    for text in ("as in seed 002", "Seed 004's CNN", "the seed's MLP", "models.seed_cnn()",
                 "transfer.SEED_002", "With seed\n    002's head"):
        assert SOURCE_REFERENCE.search(text), text
    for text in ("train.set_seed(0)", "seed=0", "a fixed seed", "seeded order", "seed 7 gives"):
        assert not SOURCE_REFERENCE.search(text), text
