"""The course's glossary, English ↔ 日本語: one file, ``labutils/glossary.csv``, read here.

Both editions of the lectures, the widgets' labels and the plots take their terms from it;
``course/glossary.md``, the page students read, is generated from it::

    python -m labutils.glossary            # rewrite course/glossary.md (and the CSV, tidied)
    python -m labutils.glossary --check    # exit 1 when either is not what it would write

The CSV has one row a term: ``en`` and ``ja`` (variants separated by ``;``), ``topics`` (the
topic numbers that use it, separated by ``,``) and ``sources_differ``: empty, or why the term
is flagged -- the course's sources use it for different things, and a reader must know which
one the course means. It ships inside the package, so a non-editable install finds it.

    >>> term("learning rate", "ja")
    '学習率'
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from labutils import i18n

CSV_PATH = Path(__file__).with_name("glossary.csv")
MARKDOWN_PATH = Path(__file__).resolve().parent.parent / "course" / "glossary.md"
# the Japanese edition's lectures link to glossary.md beside them: the same table, its head in
# Japanese and the Japanese column first
JA_MARKDOWN_PATH = MARKDOWN_PATH.parent / "ja" / "glossary.md"
COLUMNS = ("en", "ja", "topics", "sources_differ")
VARIANTS = ";"
FLAG = "⚠"


@dataclass(frozen=True)
class Term:
    """One row: each language's names (the first is the one to use), topics, and the flag."""

    en: tuple[str, ...]
    ja: tuple[str, ...]
    topics: tuple[int, ...]
    sources_differ: str = ""

    @property
    def flagged(self) -> bool:
        """The sources use this term for different things (``sources_differ`` says how)."""
        return bool(self.sources_differ)

    def names(self, lang: str) -> tuple[str, ...]:
        if lang not in i18n.LANGUAGES:
            raise ValueError(f"no language {lang!r} in the glossary; it has {i18n.LANGUAGES}")
        return getattr(self, lang)


def _split(cell: str, sep: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(sep) if part.strip())


def read(path: Path | str = CSV_PATH) -> list[Term]:
    """Every term of the CSV at ``path``, in its order (the order the topics introduce them)."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: the columns must be {COLUMNS}, not {reader.fieldnames}")
        return [Term(en=_split(row["en"], VARIANTS), ja=_split(row["ja"], VARIANTS),
                     topics=tuple(int(t) for t in _split(row["topics"], ",")),
                     sources_differ=row["sources_differ"].strip()) for row in reader]


def write(terms: list[Term], path: Path | str = CSV_PATH) -> None:
    """The CSV that :func:`read` reads back as ``terms`` (the canonical form of the file)."""
    Path(path).write_text(csv_text(terms), encoding="utf-8")


def csv_text(terms: list[Term]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for t in terms:
        writer.writerow([f"{VARIANTS} ".join(t.en), f"{VARIANTS} ".join(t.ja),
                         ", ".join(map(str, t.topics)), t.sources_differ])
    return out.getvalue()


@lru_cache(maxsize=1)
def terms() -> tuple[Term, ...]:
    """The course's glossary (read once)."""
    return tuple(read(CSV_PATH))


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def _without_brackets(name: str) -> str:
    return name.split(" (")[0] if name.endswith(")") else name


def find(name: str) -> tuple[Term, int]:
    """The term one of whose names (in any language, with or without its bracket) is ``name``,
    and which of its variants that name is."""
    wanted = _key(name)
    for t in terms():
        for lang in i18n.LANGUAGES:
            for index, variant in enumerate(t.names(lang)):
                if wanted in {_key(variant), _key(_without_brackets(variant))}:
                    return t, index
    raise KeyError(f"{name!r} is not in the glossary ({CSV_PATH.name}); add a row for it")


def term(name: str, lang: str | None = None) -> str:
    """``name`` in ``lang`` (default: the student's, :func:`labutils.i18n.lang`).

    Found by any of its names; the answer is the variant at the same place when the language
    has one there ("kernel" -> "カーネル"), else its first ("ReLU" -> "正規化線形関数").
    """
    found, index = find(name)
    variants = found.names(lang or i18n.lang())
    return variants[index] if index < len(variants) else variants[0]


def flagged() -> list[Term]:
    """The terms the sources use for different things."""
    return [t for t in terms() if t.flagged]


MARKDOWN_HEAD = f"""# Glossary · 用語集

English terms of the course with their Japanese equivalents, in the order the topics introduce
them. Each notebook gives the Japanese term beside the English one at first use. {FLAG} marks a
term the course's sources use for different things: the list below the table says which
meaning the course uses.

Generated from `labutils/glossary.csv` by `python -m labutils.glossary`: edit the CSV, not
this page.

| English | 日本語 | topic |
|---|---|---|
"""

MARKDOWN_FLAGGED = """
## Terms the sources use differently · 資料によって意味の異なる用語

"""


JA_MARKDOWN_HEAD = f"""# 用語集 · Glossary

この講義で使う用語と英語の対応を、各回で初めて出てくる順に並べる。{FLAG} の付いた用語は、
資料によって別の意味で使われているものである。表の下に、この講義でどの意味で使うかを記す。

`labutils/glossary.csv` から `python -m labutils.glossary` で生成している。直すときはこのページ
ではなく CSV を編集すること。

| 日本語 | English | 回 |
|---|---|---|
"""


def markdown(all_terms, lang: str = "en") -> str:
    """The page ``course/glossary.md`` (``lang="ja"``: ``course/ja/glossary.md``): the table,
    then every flagged term's note."""
    table = []
    for t in all_terms:
        first, second = (t.ja, t.en) if lang == "ja" else (t.en, t.ja)
        flag = f" {FLAG}" if t.flagged else ""
        table.append(f"| {', '.join(first)}{flag} | {', '.join(second)} | "
                     f"{', '.join(map(str, t.topics))} |\n")
    notes = [f"- **{t.en[0]}** ({t.ja[0]}): {t.sources_differ}\n"
             for t in all_terms if t.flagged]
    head = JA_MARKDOWN_HEAD if lang == "ja" else MARKDOWN_HEAD
    return head + "".join(table) + (MARKDOWN_FLAGGED + "".join(notes) if notes else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labutils.glossary", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a file is not what it would write")
    args = parser.parse_args(argv)
    all_terms = read(CSV_PATH)
    stale = []
    for path, text in ((CSV_PATH, csv_text(all_terms)), (MARKDOWN_PATH, markdown(all_terms)),
                       (JA_MARKDOWN_PATH, markdown(all_terms, "ja"))):
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
