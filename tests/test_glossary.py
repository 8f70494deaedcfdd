"""labutils.glossary: one CSV, read back exactly, the page students read generated from it, the
terms the sources use differently flagged."""

import json

import pytest

from conftest import REPO
from labutils import edition, glossary


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


@pytest.mark.parametrize("lang, page", [("en", "course/glossary.md"),
                                        ("ja", "course/ja/glossary.md")])
def test_the_page_students_read_is_generated_from_the_csv(lang, page):
    text = (REPO / page).read_text(encoding="utf-8")
    assert text == glossary.markdown(glossary.terms(), lang), (
        f"{page} is not what labutils/glossary.csv gives: run `python -m labutils.glossary`")


def test_the_japanese_page_puts_japanese_first():
    page = glossary.markdown(glossary.terms(), "ja")
    assert page.startswith("# 用語集") and "| 学習率, 学習係数 | learning rate | 1 |" in page


def test_the_check_command_notices_a_stale_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(glossary, "MARKDOWN_PATH", tmp_path / "glossary.md")
    monkeypatch.setattr(glossary, "JA_MARKDOWN_PATH", tmp_path / "ja" / "glossary.md")
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


# ---------------------------------------------------------------- every term is used where taught

LECTURES = sorted((REPO / "course").glob("[0-9][0-9]_*.ipynb"))


def _prose(path) -> str:
    """The markdown of a notebook, lower case, its runs of white space made single spaces."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return " ".join(text.lower().split())


def _used(names, text: str) -> bool:
    """Some name of the term (with or without its bracket) occurs in ``text``."""
    return any(" ".join(v.lower().split()) in text
               for name in names for v in {name, name.split(" (")[0]})


def test_every_term_is_used_in_the_english_lectures():
    """The English lectures give each term, in English or as its Japanese in brackets."""
    prose = " ".join(_prose(path) for path in LECTURES)
    unused = [t.en[0] for t in glossary.terms() if not _used(t.en + t.ja, prose)]
    assert not unused, f"glossary terms no English lecture uses: {unused}"


def test_every_term_is_used_in_the_japanese_edition():
    """The Japanese edition uses each term's Japanese name: the glossary is what it speaks."""
    editions = [edition.edition_path(path, "ja") for path in LECTURES]
    missing = [p.name for p in editions if not p.exists()]
    assert not missing, f"lectures without a Japanese edition: {missing}"
    prose = " ".join(_prose(path) for path in editions)
    unused = [f"{t.en[0]} ({t.ja[0]})" for t in glossary.terms() if not _used(t.ja, prose)]
    assert not unused, f"glossary terms the Japanese edition never uses: {unused}"
