"""labutils.edition: the Japanese edition of a notebook keeps the English code, cell for cell, and
its prose is Japanese.

The checks apply to the notebooks that declare a translation (``"editions": ["ja"]`` in their
metadata): every lecture of course/ (tests/test_layout.py requires it) and the small fixture
``tests/fixtures/bilingual/gradient_descent.ipynb`` that the tests of ``sync`` and ``check``
edit.
"""

import shutil

import nbformat
import pytest

from conftest import REPO
from labutils import edition

FIXTURE = REPO / "tests" / "fixtures" / "bilingual" / "gradient_descent.ipynb"


def bilingual():
    """The fixture and every lecture that declares a translation."""
    return [FIXTURE, *edition.bilingual_notebooks()]


@pytest.mark.parametrize("source", bilingual(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_bilingual_notebooks_are_in_step(source):
    langs = edition.translations(nbformat.read(source, as_version=4))
    assert langs, f"{source} declares no translation"
    problems = [line for lang in langs for line in edition.check(source, lang)]
    assert not problems, "\n".join(problems)


def test_the_fixture_is_bilingual_and_no_lecture_is_counted_twice():
    assert FIXTURE in bilingual() and len(set(bilingual())) == len(bilingual())


def test_the_committed_edition_is_what_sync_writes(tmp_path):
    """Sync over a copy changes nothing: the edition was generated, not written by hand."""
    source = _copy_fixture(tmp_path)
    before = edition.edition_path(source, "ja").read_text(encoding="utf-8")
    edition.sync(source, "ja")
    assert edition.edition_path(source, "ja").read_text(encoding="utf-8") == before


# --------------------------------------------------------------------------- the pair, broken


def _copy_fixture(tmp_path):
    """The fixture and its Japanese edition, copied to tmp_path (same layout)."""
    source = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, source)
    (tmp_path / "ja").mkdir()
    shutil.copy(edition.edition_path(FIXTURE, "ja"), edition.edition_path(source, "ja"))
    return source


def _edit(path, cell_id, text=None, transform=None):
    nb = nbformat.read(path, as_version=4)
    (cell,) = [c for c in nb.cells if c.id == cell_id]
    cell.source = text if text is not None else transform(cell.source)
    nbformat.write(nb, path)


def _ja(source):
    return edition.edition_path(source, "ja")


def _cell(path, cell_id):
    (cell,) = [c for c in nbformat.read(path, as_version=4).cells if c.id == cell_id]
    return cell


def test_a_changed_code_cell_is_caught(tmp_path):
    source = _copy_fixture(tmp_path)
    _edit(_ja(source), "descend", transform=lambda s: s.replace("2 * w", "2.0 * w"))
    (problem,) = edition.check(source, "ja")
    assert "code cell 3 (descend) differs from the English" in problem


def test_cells_out_of_order_are_caught(tmp_path):
    source = _copy_fixture(tmp_path)
    nb = nbformat.read(_ja(source), as_version=4)
    nb.cells[1], nb.cells[2] = nb.cells[2], nb.cells[1]
    nbformat.write(nb, _ja(source))
    (problem,) = edition.check(source, "ja")
    assert "not those of the English notebook" in problem


def test_a_missing_edition_is_caught(tmp_path):
    source = _copy_fixture(tmp_path)
    _ja(source).unlink()
    (problem,) = edition.check(source, "ja")
    assert "is missing" in problem and "edition sync" in problem


def test_a_prose_cell_without_japanese_is_caught(tmp_path):
    source = _copy_fixture(tmp_path)
    english = _cell(source, "summary").source
    _edit(_ja(source), "summary", english)  # the English left in place of the Japanese
    problems = edition.check(source, "ja")
    assert any("prose cell 7 (summary) has no ja text yet" in p for p in problems), problems


def test_a_new_english_cell_arrives_untranslated(tmp_path):
    source = _copy_fixture(tmp_path)
    nb = nbformat.read(source, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_markdown_cell("A new paragraph.", id="added"))
    nb.cells.insert(4, nbformat.v4.new_code_cell("print(descend(0.1)[-1])", id="added-code"))
    nbformat.write(nb, source)
    edition.sync(source, "ja")
    assert _cell(_ja(source), "added-code").source == "print(descend(0.1)[-1])"
    problems = edition.check(source, "ja")
    assert any("prose cell 4 (added) has no ja text yet" in p for p in problems), problems
    assert not any("code" in p for p in problems), problems
    # translated in the edition, then synced: stamped, and the pair is in step again
    _edit(_ja(source), "added", "新しい段落です。")
    assert any("(added) has no ja text" in p for p in edition.check(source, "ja"))
    edition.sync(source, "ja")
    assert edition.check(source, "ja") == []


def test_an_english_edit_makes_its_translation_stale(tmp_path):
    source = _copy_fixture(tmp_path)
    _edit(source, "summary", transform=lambda s: s + "\n- A third point.")
    edition.sync(source, "ja")  # the Japanese is kept, and still says what it translated
    (problem,) = edition.check(source, "ja")
    assert "English of prose cell 7 (summary) changed since it was translated" in problem
    # the translator updates the Japanese and syncs: in step
    _edit(_ja(source), "summary", transform=lambda s: s + "\n- 三つ目の点です。")
    edition.sync(source, "ja")
    assert edition.check(source, "ja") == []


def test_an_english_edit_that_needs_no_translation_is_accepted(tmp_path):
    source = _copy_fixture(tmp_path)
    _edit(source, "summary", transform=lambda s: s.replace("Too small", "Too  small"))
    edition.sync(source, "ja")
    assert len(edition.check(source, "ja")) == 1
    edition.sync(source, "ja", accept=("summary",))
    assert edition.check(source, "ja") == []


def test_an_untranslated_copy_stays_untranslated_when_the_english_changes(tmp_path):
    source = _copy_fixture(tmp_path)
    nb = nbformat.read(source, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Old English.", id="late"))
    nbformat.write(nb, source)
    edition.sync(source, "ja")
    _edit(source, "late", "New English.")
    edition.sync(source, "ja")
    assert _cell(_ja(source), "late").source == "New English."
    assert any("(late) has no ja text yet" in p for p in edition.check(source, "ja"))


def test_sync_refuses_to_lose_an_edited_code_cell(tmp_path):
    source = _copy_fixture(tmp_path)
    _edit(_ja(source), "message", transform=lambda s: s.replace("0.3", "0.4"))
    before = _ja(source).read_text(encoding="utf-8")
    with pytest.raises(edition.EditionError, match="code cell message was edited"):
        edition.sync(source, "ja")
    assert _ja(source).read_text(encoding="utf-8") == before  # nothing written
    edition.sync(source, "ja", force=True)
    assert edition.check(source, "ja") == []


def test_an_english_code_edit_reaches_the_edition(tmp_path):
    """Code is written in English only: sync carries a change over without --force, and
    still refuses when the edition's copy was edited as well."""
    source = _copy_fixture(tmp_path)
    _edit(source, "descend", transform=lambda s: s.replace("2 * w", "2.0 * w"))
    edition.sync(source, "ja")
    assert _cell(_ja(source), "descend").source == _cell(source, "descend").source
    assert edition.check(source, "ja") == []
    _edit(source, "descend", transform=lambda s: s.replace("2.0 * w", "2 * w"))
    _edit(_ja(source), "descend", transform=lambda s: s + "\n# edited in Japanese")
    with pytest.raises(edition.EditionError, match="code cell descend was edited"):
        edition.sync(source, "ja")


def test_sync_refuses_to_lose_a_translation_of_a_deleted_cell(tmp_path):
    source = _copy_fixture(tmp_path)
    nb = nbformat.read(source, as_version=4)
    nb.cells = [c for c in nb.cells if c.id != "rates"]
    nbformat.write(nb, source)
    with pytest.raises(edition.EditionError, match="prose cell rates is translated"):
        edition.sync(source, "ja")


def test_too_much_english_in_the_japanese_prose_is_caught(tmp_path):
    source = _copy_fixture(tmp_path)
    english = "This sentence was left in English by mistake, and it is a long one. " * 12
    _edit(_ja(source), "rates", transform=lambda s: s + "\n\n" + english)
    edition.sync(source, "ja")  # stamped as translated: only the share is wrong
    (problem,) = edition.check(source, "ja")
    assert "of the letters of its prose are ja (at least 80%" in problem


# --------------------------------------------------------------------------- the share


@pytest.mark.parametrize("markdown, native, foreign", [
    ("重みと weight", 3, 6),
    ("行列積 `np.dot(a, b)` を使う", 6, 0),                        # code spans aside
    ("更新は $w \\leftarrow w - \\eta g$ です", 5, 0),             # inline math aside
    ("式\n\n$$\nE = \\frac{1}{2} \\sum_k (y_k - t_k)^2\n$$\n", 1, 0),  # display math aside
    ("[NumPy の説明](https://numpy.org/doc/stable/) と https://example.org/x", 4, 5),
    ("```python\nprint('code')\n```\n本文", 2, 0),                 # fenced code aside
    ("<b>太字</b>、10 個。", 5, 0),                                 # tags, digits aside
    ("", 0, 0),
])
def test_letters_are_counted_in_the_prose_only(markdown, native, foreign):
    assert edition.letter_counts(markdown) == (native, foreign)


def test_the_share_of_japanese():
    assert edition.native_share("学習率 learning rate") == pytest.approx(3 / 15)
    assert edition.native_share("`only code`") == 1.0
    assert edition.native_share(_cell(_ja(FIXTURE), "rates").source) > 0.8
    assert edition.native_share(_cell(FIXTURE, "title").source) < 0.2  # English, 学習率 aside


def test_the_check_command_says_how_many_notebooks_it_covered(capsys):
    assert edition.main(["check", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "editions in step" in out and "1 of 1 notebooks are bilingual" in out
