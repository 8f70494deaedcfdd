"""The executed site (`make book`) in a real browser.

Builds the site in fast mode into build/book-test/ (scripts/build_book.py; executed notebooks
are reused while nothing they depend on changed), serves it on loopback and reads it in
Debian's chromium: every English lecture has its page, with its title and its figures loaded;
the bilingual fixture has a page in each language, each linking to the other. Screenshots land
in build/book-test/screens/.

    .venv/bin/python -m pytest -m book tests/test_book.py      # or: make test-book
"""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from conftest import REPO
from test_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser_tools

pytestmark = pytest.mark.book

OUT = REPO / "build" / "book-test"
SHOTS = OUT / "screens"
FIXTURE = REPO / "tests" / "fixtures" / "bilingual" / "gradient_descent.ipynb"
LECTURES = sorted(REPO.glob("course/*.ipynb"))
# every lecture in both editions: the site is read in Japanese too
PAGES = LECTURES + sorted(REPO.glob("course/ja/*.ipynb"))
BUILD_TIMEOUT_S = 1800


def _title(notebook: Path) -> str:
    """The text of the notebook's first heading, as a reader sees it."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        match = re.search(r"^# (.+)$", cell.source, re.M)
        if cell.cell_type == "markdown" and match:
            return re.sub(r"[*_`]", "", match.group(1)).strip()
    raise AssertionError(f"{notebook} has no title")


@pytest.fixture(scope="module")
def site():
    """The built site, served on 127.0.0.1; yields its base URL."""
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_book.py"), "--fast",
                    "--out", str(OUT)], cwd=REPO, check=True, timeout=BUILD_TIMEOUT_S)
    html = OUT / "src" / "_build" / "html"
    assert (html / "index.html").is_file(), f"no {html / 'index.html'} after the build"
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_playwright = _require_browser_tools()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-book")), executable_path=CHROMIUM,
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 1280, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def _open(browser, url: str):
    page = browser.new_page()
    page.goto(url, wait_until="networkidle")
    return page


def _figures(page) -> list[dict]:
    """Every image of the article with its natural size (0 for one that did not load)."""
    return page.evaluate("""() => [...document.querySelectorAll('article img, main img')]
        .map(i => ({src: i.getAttribute('src'), width: i.naturalWidth}))""")


def _page_url(site: str, browser, title: str) -> str:
    """The URL of the page whose link in the site's table of contents reads ``title``."""
    index = _open(browser, site)
    try:
        link = index.get_by_role("link", name=title, exact=False).first
        link.wait_for(state="attached")
        return site + link.get_attribute("href")
    finally:
        index.close()


@pytest.mark.parametrize("lecture", PAGES, ids=lambda p: p.relative_to(REPO / "course").as_posix())
def test_every_lecture_has_its_page_with_figures(site, browser, lecture):
    title = _title(lecture)
    page = _open(browser, _page_url(site, browser, title))
    try:
        heading = page.locator("h1").first.inner_text()
        assert title in " ".join(heading.split()), f"{lecture.name}: the page's title {heading!r}"
        figures = _figures(page)
        suffix = "_ja" if lecture.parent.name == "ja" else ""
        page.screenshot(path=str(SHOTS / f"{lecture.stem}{suffix}.png"))
    finally:
        page.close()
    assert figures, f"{lecture.name}: no figure on its page"
    broken = [f["src"] for f in figures if not f["width"]]
    assert not broken, f"{lecture.name}: figures that did not load: {broken}"


@pytest.mark.parametrize("english", [FIXTURE, *LECTURES], ids=lambda p: p.stem)
def test_the_two_editions_link_to_each_other(site, browser, english):
    english_title, japanese_title = _title(english), _title(english.parent / "ja" / english.name)
    page = _open(browser, _page_url(site, browser, english_title))
    try:
        page.get_by_role("link", name="日本語", exact=True).first.click()
        page.wait_for_load_state("networkidle")
        assert japanese_title in " ".join(page.locator("h1").first.inner_text().split())
        assert _figures(page) and all(f["width"] for f in _figures(page))
        if english == FIXTURE:
            page.screenshot(path=str(SHOTS / "fixture_ja.png"))
        page.get_by_role("link", name="English", exact=True).first.click()
        page.wait_for_load_state("networkidle")
        assert english_title in " ".join(page.locator("h1").first.inner_text().split())
    finally:
        page.close()


def test_the_glossary_is_a_page_the_lectures_link_to(site, browser):
    page = _open(browser, _page_url(site, browser, "Glossary"))
    try:
        assert "学習率" in page.locator("main").inner_text()
    finally:
        page.close()
