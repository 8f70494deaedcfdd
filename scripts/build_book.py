"""`make book`: the course executed, as a static site built by Jupyter Book 2 (MyST).

    python scripts/build_book.py [--fast] [--out build/book]

1. Each page's notebook is executed into OUT/src/ with nbclient: LABUTILS_HEADLESS=1 (widgets
   drawn as figures), the page's language in LABUTILS_LANG, full mode unless --fast
   (LABUTILS_FAST=1), in the folder of its source so that relative paths behave as in
   JupyterLab. An executed copy is reused while its code cells, labutils/ and the mode are
   unchanged (OUT/executed/): edited prose is taken from the notebook as it is now.
2. The pages: every English lecture of course/, and every edition of a notebook that declares
   one (labutils.edition), the fixture of tests/fixtures/bilingual/ included. A page that
   exists in two languages links to the other one under its title.
3. `jupyter-book build --html` in OUT/src writes the site to OUT/src/_build/html, with the
   course's own site template (scripts/book_theme/: plain HTML, no JavaScript), because
   Jupyter Book's default template is downloaded from GitHub at the first build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "bilingual" / "gradient_descent.ipynb"
# Jupyter Book's own theme (book-theme) is downloaded from GitHub at the first build, which
# these machines cannot reach; the course's theme renders the same content with the stdlib.
THEME = REPO / "scripts" / "book_theme"
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}
CELL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Page:
    source: Path      # the notebook executed
    lang: str
    stem: str         # the English notebook's stem, shared by its editions
    section: str

    @property
    def name(self) -> str:
        """The staged file's name: the stem, and the language for a translation."""
        return f"{self.stem}.ipynb" if self.lang == "en" else f"{self.stem}_{self.lang}.ipynb"


def pages() -> list[Page]:
    from labutils import edition

    found = []
    for section, english in [*(("lectures", p) for p in sorted(REPO.glob("course/*.ipynb"))),
                             ("fixture", FIXTURE)]:
        found.append(Page(english, "en", english.stem, section))
        langs = edition.translations(edition.read_notebook(english))
        found += [Page(edition.edition_path(english, lang), lang, english.stem, section)
                  for lang in langs]
    return found


def _fingerprint(page: Page, fast: bool) -> str:
    """What the outputs depend on: the code cells, labutils, the mode and the language (not
    the prose: an edited sentence does not re-run a page that trains for minutes)."""
    import nbformat

    sha = hashlib.sha256(f"{fast} {page.lang}".encode())
    for cell in nbformat.read(page.source, as_version=4).cells:
        if cell.cell_type == "code":
            sha.update(f"{cell.id}\n{cell.source}\n".encode())
    for path in [*sorted((REPO / "labutils").glob("*.py")), REPO / "labutils" / "glossary.csv"]:
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def _with_prose_of(executed, source):
    """The executed notebook with the source's prose: its code cells and outputs are the
    source's (the fingerprint says so), its markdown cells may have been edited since."""
    by_id = {cell.id: cell for cell in executed.cells}
    source.cells = [cell if cell.cell_type != "code" else by_id[cell.id] for cell in source.cells]
    return source


def execute(page: Page, cache: Path, fast: bool):
    """The page's notebook with its outputs (from the cache when nothing they depend on moved)."""
    import nbformat
    from nbclient import NotebookClient

    cached = cache / f"{page.name[:-6]}-{_fingerprint(page, fast)}.ipynb"
    nb = nbformat.read(page.source, as_version=4)
    if cached.exists():
        return _with_prose_of(nbformat.read(cached, as_version=4), nb), 0.0
    env = {"LABUTILS_HEADLESS": "1", "LABUTILS_LANG": page.lang,
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    saved = {name: os.environ.get(name) for name in [*env, "LABUTILS_FAST"]}
    os.environ.update(env)
    if fast:
        os.environ["LABUTILS_FAST"] = "1"
    else:
        os.environ.pop("LABUTILS_FAST", None)
    start = time.monotonic()
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                       resources={"metadata": {"path": str(page.source.parent)}}).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    seconds = time.monotonic() - start
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob(f"{page.name[:-6]}-*.ipynb"):
        old.unlink()
    nbformat.write(nb, cached)
    return nb, seconds


def language_links(page: Page, all_pages: list[Page]):
    """A markdown cell linking to the page's other languages, or None when it has none."""
    import nbformat

    others = [p for p in all_pages if p.stem == page.stem and p.lang != page.lang]
    if not others:
        return None
    links = " · ".join(f"[{LANGUAGE_NAMES[p.lang]}]({p.name})" for p in others)
    return nbformat.v4.new_markdown_cell(f"*{LANGUAGE_NAMES[page.lang]}* · {links}",
                                         id="edition-links")


def myst_config(all_pages: list[Page], template: str) -> dict:
    def chapter(title, section, lang):
        return {"title": title, "children": [{"file": p.name} for p in all_pages
                                             if p.section == section and p.lang == lang]}

    toc = [{"file": "index.md"}, chapter("Lectures", "lectures", "en")]
    if any(p.section == "lectures" and p.lang == "ja" for p in all_pages):
        toc.append(chapter("講義", "lectures", "ja"))
    toc.append({"file": "glossary.md"})  # the lectures link to it
    toc.append({"title": "Two editions (fixture) · 二つの版（見本）",
                "children": [{"file": p.name} for p in all_pages if p.section == "fixture"]})
    return {"version": 1,
            "project": {"title": "Image recognition with deep learning · 深層学習による画像認識",
                        "toc": toc},
            "site": {"template": template}}


INDEX = """# Image recognition with deep learning · 深層学習による画像認識

The lectures of the course, executed with their outputs, so that they can be read before
anything is run. Each page that exists in English and in Japanese links to the other edition
at its top.

講義ノートブックを実行結果とともに掲載している。英語版と日本語版の両方がある
ページには、先頭にもう一方の版へのリンクがある。
"""


def build(out: Path, fast: bool, template: str = str(THEME), langs=None) -> Path:
    import nbformat

    src = out / "src"
    all_pages = [p for p in pages() if langs is None or p.lang in langs]
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    timings = []
    for page in all_pages:
        nb, seconds = execute(page, out / "executed", fast)
        if page.lang != "en":  # MyST labels blocks by cell id: one label per page and language
            for cell in nb.cells:
                cell.id = f"{page.lang}-{cell.id}"[:64]
        links = language_links(page, all_pages)
        if links is not None:  # after the title cell: MyST takes the first heading as the title
            nb.cells.insert(1, links)
        nbformat.write(nb, src / page.name)
        timings.append(f"{page.name}: {seconds:.0f} s" if seconds else f"{page.name}: cached")
        print(f"[book] executed {timings[-1]}", flush=True)
    (src / "myst.yml").write_text(json.dumps(myst_config(all_pages, template), ensure_ascii=False,
                                             indent=2), encoding="utf-8")
    (src / "index.md").write_text(INDEX, encoding="utf-8")
    shutil.copy(REPO / "course" / "glossary.md", src / "glossary.md")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    start = time.monotonic()
    subprocess.run([str(jupyter_book), "build", "--html"], cwd=src, check=True)
    print(f"[book] jupyter-book build --html: {time.monotonic() - start:.0f} s", flush=True)
    html = src / "_build" / "html"
    (out / "timings.txt").write_text("\n".join(timings) + "\n", encoding="utf-8")
    return html


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="execute with LABUTILS_FAST=1")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "book")
    parser.add_argument("--template", default=str(THEME),
                        help="the MyST site template (default: scripts/book_theme; "
                             "'book-theme' is Jupyter Book's own, downloaded at first use)")
    parser.add_argument("--lang", action="append", choices=sorted(LANGUAGE_NAMES),
                        help="only the pages in this language (default: every edition)")
    args = parser.parse_args(argv)
    html = build(args.out.resolve(), args.fast, args.template, args.lang)
    print(f"[book] the site: {html}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
