"""labutils.glossary: one CSV, read back exactly, the page students read generated from it, the
terms the sources use differently flagged."""

import pytest

from conftest import REPO
from labutils import glossary


def test_the_csv_round_trips(tmp_path):
    """Read, written and read again: the same terms, and the file is already in that form."""
    original = glossary.read(glossary.CSV_PATH)
    copy = tmp_path / "glossary.csv"
    glossary.write(original, copy)
    assert glossary.read(copy) == original
    assert copy.read_text(encoding="utf-8") == glossary.CSV_PATH.read_text(encoding="utf-8")


def test_a_round_trip_keeps_variants_topics_and_flags(tmp_path):
    terms = [glossary.Term(en=("filter", "kernel"), ja=("フィルタ", "カーネル"), topics=(3, 4),
                           sources_differ='a note, with a comma and "quotes"'),
             glossary.Term(en=("domain (source, target)",), ja=("ドメイン",), topics=(6,))]
    path = tmp_path / "small.csv"
    glossary.write(terms, path)
    assert glossary.read(path) == terms


def test_the_page_students_read_is_generated_from_the_csv():
    page = (REPO / "course" / "glossary.md").read_text(encoding="utf-8")
    assert page == glossary.markdown(glossary.terms()), (
        "course/glossary.md is not what labutils/glossary.csv gives: run "
        "`python -m labutils.glossary`")


def test_the_check_command_notices_a_stale_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(glossary, "MARKDOWN_PATH", tmp_path / "glossary.md")
    assert glossary.main(["--check"]) == 1 and "out of date" in capsys.readouterr().out
    assert glossary.main([]) == 0
    assert glossary.main(["--check"]) == 0


def test_terms_in_both_languages():
    assert glossary.term("learning rate", "ja") == "学習率"
    assert glossary.term("学習率", "en") == "learning rate"
    assert glossary.term("Learning  Rate", "ja") == "学習率"      # case and spaces
    assert glossary.term("exclusive or", "ja") == "排他的論理和"    # without its bracket
    assert glossary.term("kernel", "ja") == "カーネル"             # the variant at its place
    assert glossary.term("ReLU", "ja") == "正規化線形関数"          # else the first


def test_the_default_language_is_the_students(monkeypatch):
    monkeypatch.setenv("LABUTILS_LANG", "ja")
    assert glossary.term("epoch") == "エポック"
    monkeypatch.setenv("LABUTILS_LANG", "en")
    assert glossary.term("エポック") == "epoch"


def test_an_unknown_term_or_language_says_so():
    with pytest.raises(KeyError, match="not in the glossary"):
        glossary.term("quantum annealing", "ja")
    with pytest.raises(ValueError, match="no language 'fr'"):
        glossary.term("epoch", "fr")


def test_every_name_means_one_term():
    """A name shared by two rows would make term() answer for the first one silently."""
    seen = {}
    for t in glossary.terms():
        names = (*t.en, *t.ja)
        for name in {glossary._key(n) for n in (*names, *map(glossary._without_brackets, names))}:
            assert name not in seen, f"{name!r} names both {seen[name].en[0]} and {t.en[0]}"
            seen[name] = t
    assert all(t.en and t.ja and t.topics for t in glossary.terms())


@pytest.mark.parametrize("english, must_mention", [
    ("validation data", ["検証データ", "テストデータ"]),      # a source's test set is 検証データ
    ("test set", ["検証データ"]),
    ("fine-tuning", ["(1)", "(2)", "(3)", "特徴抽出"]),       # three meanings across the sources
    ("regularization", ["正規化", "正則化"]),                 # 正規化 vs 正則化
    ("normalization", ["正規化", "正則化"]),
])
def test_terms_the_sources_use_differently_are_flagged(english, must_mention):
    found, _ = glossary.find(english)
    assert found.flagged
    missing = [word for word in must_mention if word not in found.sources_differ]
    assert not missing, f"the note on {english!r} does not mention {missing}"
    assert f"**{found.en[0]}** ({found.ja[0]})" in glossary.markdown(glossary.terms())


def test_most_terms_are_not_flagged():
    flagged = glossary.flagged()
    assert 0 < len(flagged) < len(glossary.terms()) / 10
    assert not glossary.find("learning rate")[0].flagged
