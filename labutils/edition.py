"""Two editions of a lecture, English and Japanese, that cannot drift apart.

The English notebook ``course/NN_x.ipynb`` is the source of the code and of the order of the
cells. Its Japanese edition is a notebook of its own, ``course/ja/NN_x.ipynb``, that a student
opens and a translator edits in JupyterLab like any other: the same cells with the same ids,
every code cell identical to the English one, every prose (markdown) cell in Japanese. A
notebook takes part once its metadata declares its translations::

    "editions": ["ja"]

Two commands (``python -m labutils.edition --help``)::

    sync course/01_perceptron.ipynb   # writes course/ja/01_perceptron.ipynb from the English
    sync                              # every bilingual notebook of course/
    check                             # every bilingual notebook of course/; exit 1 on a problem

``sync`` copies every code cell from the English notebook, keeps each Japanese prose cell (by
cell id), gives a new English prose cell to the edition as an untranslated copy, and stamps
each translated cell with a digest of the English text it translates and each code cell with
a digest of the code it copied (so a change of the English code is carried over, and an edit
made in the edition is refused rather than overwritten). ``check`` fails when a
code cell differs, when the cells differ in number or order, when a prose cell has no Japanese
text yet, when the English text of a prose cell changed since it was translated, or when less
than 80 % of the letters of the Japanese prose are Japanese (code spans, formulas, URLs and
HTML tags aside; digits, spaces and punctuation do not count).

A third language is a third code in ``"editions"`` and in ``labutils.i18n.LANGUAGES``; only
:func:`native_share` knows what Japanese letters are.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
MIN_SHARE = 0.80
STAMP = "edition"  # the key of a translated cell's metadata, and of an edition's


class EditionError(Exception):
    """``sync`` would throw away work done in the edition (a code edit, a translation)."""


# --------------------------------------------------------------------------- what is prose

_NOT_PROSE = [re.compile(pattern, flags) for pattern, flags in (
    (r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M),   # fenced code blocks
    (r"\$\$.+?\$\$", re.S),                        # display math
    (r"(?<![\\$])\$[^$\n]+?\$", 0),                # inline math
    (r"`[^`\n]+`", 0),                             # code spans
    (r"\]\([^)\s]*\)", 0),                         # the target of a link [text](url)
    (r"https?://\S+|<[a-z]+://[^>]*>", re.I),      # bare URLs and autolinks
    (r"</?[a-zA-Z][^>\n]*>", 0),                   # HTML tags
)]

# Hiragana, katakana (with ー), CJK symbols and punctuation (、。「」), CJK ideographs and
# extension A, half- and full-width forms
_JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def prose(markdown: str) -> str:
    """``markdown`` without what is not prose: code, math, URLs, HTML tags."""
    for pattern in _NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def letter_counts(markdown: str) -> tuple[int, int]:
    """(Japanese characters, other letters) in the prose of ``markdown``."""
    text = prose(markdown)
    native = len(_JAPANESE.findall(text))
    foreign = sum(1 for ch in text if ch.isalpha() and not _JAPANESE.match(ch))
    return native, foreign


def native_share(markdown: str) -> float:
    """The share of Japanese among the letters of the prose (1.0 when it has no letters)."""
    native, foreign = letter_counts(markdown)
    return native / (native + foreign) if native + foreign else 1.0


# --------------------------------------------------------------------------- notebooks


def read_notebook(path: Path):
    import nbformat
    return nbformat.read(str(path), as_version=4)


def _write(nb, path: Path) -> None:
    import nbformat
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def translations(nb) -> list[str]:
    """The languages an English notebook declares (``metadata.editions``), or []."""
    return list(nb.metadata.get("editions", []))


def edition_path(source: Path, lang: str) -> Path:
    """``course/NN_x.ipynb`` -> ``course/ja/NN_x.ipynb``."""
    return Path(source).parent / lang / Path(source).name


def bilingual_notebooks(folder: Path = COURSE) -> list[Path]:
    """The notebooks of ``folder`` (not its sub-folders) that declare a translation."""
    return [path for path in sorted(Path(folder).glob("*.ipynb"))
            if translations(read_notebook(path))]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _stamp(cell) -> dict:
    return cell.metadata.get(STAMP, {})


# --------------------------------------------------------------------------- sync


def _translated_cell(english, old):
    """The edition's cell for the English prose cell ``english``, from its old one (or None)."""
    cell = copy.deepcopy(english)
    stamp = dict(_stamp(old)) if old is not None else {}
    edited = old is not None and stamp.get("text") != digest(old.source)
    if old is None or old.source == english.source or (stamp.get("from") is None
                                                        and not edited):
        # nothing translated yet (the edition holds a copy of this or of an older English)
        cell.metadata[STAMP] = {"from": None, "text": digest(english.source)}
        return cell
    cell.source = old.source
    if stamp.get("from") is None or (stamp["from"] != digest(english.source) and edited):
        # newly translated, or the translation was edited after the English changed
        stamp["from"] = digest(english.source)
    stamp["text"] = digest(old.source)
    cell.metadata[STAMP] = stamp
    return cell


def _edited_code(cell, english) -> bool:
    """The edition's code cell was changed in the edition: its text is not what ``sync`` last
    wrote into it (a cell without that stamp: not the English text). A change of the English
    code alone is not an edit; sync carries it over."""
    if cell.source == english.source:
        return False
    written = _stamp(cell).get("code")
    return written is None or digest(cell.source) != written


def sync(source: Path, lang: str, force: bool = False, accept: tuple[str, ...] = ()) -> Path:
    """Write the ``lang`` edition of ``source`` (see the module's docstring) and return its path.

    Raises EditionError, and writes nothing, when the edition holds work that this would lose:
    an edited code cell, or a translated cell whose English cell is gone (``force`` loses it).
    ``accept`` names prose cells whose English changed in a way that needs no new translation.
    """
    english = read_notebook(source)
    target = edition_path(source, lang)
    old = read_notebook(target) if target.exists() else None
    old_cells = {cell.id: cell for cell in old.cells} if old else {}
    english_ids = {cell.id for cell in english.cells}
    lost = [f"code cell {cell.id} was edited in the {lang} edition (code is written once, "
            "in the English notebook)"
            for cell in english.cells
            if cell.cell_type == "code" and cell.id in old_cells
            and _edited_code(old_cells[cell.id], cell)]
    lost += [f"prose cell {cell_id} is translated but its English cell is gone"
             for cell_id, cell in old_cells.items()
             if cell_id not in english_ids and cell.cell_type == "markdown"
             and _stamp(cell).get("from")]
    if lost and not force:
        raise EditionError(f"{target}: " + "; ".join(lost) + " (--force throws it away)")

    edition = copy.deepcopy(english)
    edition.metadata.pop("editions", None)
    edition.metadata[STAMP] = {"lang": lang, "source": f"../{Path(source).name}"}
    edition.cells = []
    for cell in english.cells:
        if cell.cell_type == "markdown":
            old_cell = old_cells.get(cell.id)
            new = _translated_cell(cell, old_cell if old_cell and old_cell.cell_type == "markdown"
                                   else None)
            if cell.id in accept and new.metadata[STAMP].get("from"):
                new.metadata[STAMP]["from"] = digest(cell.source)
        else:
            new = copy.deepcopy(cell)
            if new.cell_type == "code":
                new.outputs, new.execution_count = [], None
                new.metadata[STAMP] = {"code": digest(cell.source)}
        edition.cells.append(new)
    _write(edition, target)
    return target


# --------------------------------------------------------------------------- check


def check(source: Path, lang: str, min_share: float = MIN_SHARE) -> list[str]:
    """What is wrong with the ``lang`` edition of ``source``: one line a problem, [] if none."""
    target = edition_path(source, lang)
    fix = f"python -m labutils.edition sync {source}"
    if not target.exists():
        return [f"{target} is missing: run `{fix}`"]
    english, edition = read_notebook(source), read_notebook(target)
    where = f"{target}:"
    ids, edition_ids = [c.id for c in english.cells], [c.id for c in edition.cells]
    if ids != edition_ids:
        return [f"{where} its cells are not those of the English notebook, in the same order "
                f"({len(edition_ids)} vs {len(ids)} cells): run `{fix}`"]
    problems, native, foreign = [], 0, 0
    for number, (en, ed) in enumerate(zip(english.cells, edition.cells), start=1):
        name = f"cell {number} ({en.id})"
        if en.cell_type != ed.cell_type:
            problems.append(f"{where} {name} is {ed.cell_type}, in English {en.cell_type}")
        elif en.cell_type == "code" and en.source != ed.source:
            problems.append(f"{where} code {name} differs from the English: code is edited "
                            f"in {source} only, then `{fix}`")
        elif en.cell_type == "markdown":
            stamp = _stamp(ed).get("from")
            if not stamp or ed.source == en.source:
                problems.append(f"{where} prose {name} has no {lang} text yet (translate it, "
                                f"then `{fix}` stamps it)")
            elif stamp != digest(en.source):
                problems.append(f"{where} the English of prose {name} changed since it was "
                                f"translated: update the {lang} text, then `{fix}`")
            counts = letter_counts(ed.source)
            native, foreign = native + counts[0], foreign + counts[1]
    share = native / (native + foreign) if native + foreign else 1.0
    if share < min_share:
        problems.append(f"{where} only {share:.0%} of the letters of its prose are {lang} "
                        f"(at least {min_share:.0%}: write English terms in brackets, once)")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labutils.edition", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    do_sync = commands.add_parser("sync", help="write the editions of English notebooks "
                                  "(default: the bilingual ones of course/)")
    do_sync.add_argument("notebooks", nargs="*", type=Path)
    do_sync.add_argument("--lang", help="only this edition (default: every one declared)")
    do_sync.add_argument("--force", action="store_true",
                         help="overwrite edited code and drop translations of deleted cells")
    do_sync.add_argument("--accept", action="append", default=[], metavar="CELL_ID",
                         help="this prose cell's translation still holds after an English edit")
    do_check = commands.add_parser("check", help="check the editions (default: course/)")
    do_check.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)

    if args.command == "sync":
        for source in args.notebooks or bilingual_notebooks():
            langs = [args.lang] if args.lang else translations(read_notebook(source))
            if not langs:
                parser.error(f'{source} declares no edition: add "editions": ["ja"] to its '
                             "notebook metadata")
            for lang in langs:
                try:
                    print(f"wrote {sync(source, lang, args.force, tuple(args.accept))}")
                except EditionError as err:
                    print(err, file=sys.stderr)
                    return 1
        return 0

    sources = args.notebooks or sorted(COURSE.glob("*.ipynb"))
    bilingual = [path for path in sources if translations(read_notebook(path))]
    problems = [line for path in bilingual for lang in translations(read_notebook(path))
                for line in check(path, lang)]
    print("\n".join(problems) if problems else "editions in step")
    print(f"{len(bilingual)} of {len(sources)} notebooks are bilingual; the others were not "
          "checked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
