"""scripts/book_theme/server.py: MyST's AST of a page becomes plain HTML (no browser needed)."""

import importlib.util
import sys

import pytest

from conftest import REPO

_spec = importlib.util.spec_from_file_location("book_theme_server",
                                               REPO / "scripts" / "book_theme" / "server.py")
theme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(theme)


def _text(value):
    return {"type": "text", "value": value}


def test_prose_is_escaped_and_tagged():
    node = {"type": "root", "children": [
        {"type": "heading", "depth": 2, "identifier": "rates", "children": [_text("Rates")]},
        {"type": "paragraph", "children": [
            _text("a < b & "), {"type": "strong", "children": [_text("学習率")]},
            {"type": "inlineCode", "value": "x<y"},
            {"type": "link", "url": "/gradient-descent-ja", "children": [_text("日本語")]}]},
    ]}
    assert theme.render(node) == (
        '<h2 id="rates">Rates</h2>\n<p>a &lt; b &amp; <strong>学習率</strong><code>x&lt;y</code>'
        '<a href="/gradient-descent-ja">日本語</a></p>')


def test_lists_tables_and_math():
    ordered = {"type": "list", "ordered": True, "start": 3,
               "children": [{"type": "listItem", "children": [_text("three")]}]}
    assert theme.render(ordered) == '<ol start="3"><li>three</li></ol>\n'
    row = {"type": "tableRow", "children": [{"type": "tableCell", "header": True,
                                             "children": [_text("w")]}]}
    assert theme.render(row) == "<tr><th>w</th></tr>"
    assert theme.render({"type": "inlineMath", "value": "a<b"}) == \
        '<span class="math">$a&lt;b$</span>'
    assert theme.render({"type": "math", "value": "x", "html": "<span>x</span>"}) == \
        '<div class="math"><span>x</span></div>'


@pytest.mark.parametrize("jupyter_output, expected", [
    ({"output_type": "display_data", "data": {
        "image/png": {"content_type": "image/png", "path": "/abc123.png"},
        "text/plain": {"content": "<Figure size 600x320>"}}},
     '<img class="figure" src="/build/abc123.png" alt="figure">'),
    ({"output_type": "display_data", "data": {"image/png": {"content": "iVBORw0"}}},
     '<img class="figure" src="data:image/png;base64,iVBORw0" alt="figure">'),
    ({"output_type": "stream", "name": "stdout", "text": "w = 1e-08 < 1\n"},
     '<pre class="output">w = 1e-08 &lt; 1\n</pre>'),
    ({"output_type": "execute_result", "data": {"text/html": {"content": "<table></table>"}}},
     '<div class="output"><table></table></div>'),
    ({"output_type": "execute_result", "data": {"text/plain": "(3, 4)"}},
     '<pre class="output">(3, 4)</pre>'),
    ({"output_type": "error", "ename": "ValueError", "evalue": "no <line>"},
     '<pre class="output error">ValueError: no &lt;line&gt;</pre>'),
])
def test_outputs_of_a_code_cell(jupyter_output, expected):
    for node in ({"type": "output", "jupyter_data": jupyter_output},   # MyST's newer shape
                 {"type": "output", "data": [jupyter_output]}):        # and its older one
        assert theme.render(node) == expected


def test_extracted_files_are_served_from_build():
    assert theme.asset("https://numpy.org/x.png") == "https://numpy.org/x.png"
    assert theme.asset("/build/a.png") == "/build/a.png"
    assert theme.asset("a.png") == "/build/a.png"


# ---------------------------------------------------------------- the executed pages' cache

_book_spec = importlib.util.spec_from_file_location("build_book",
                                                    REPO / "scripts" / "build_book.py")
book = importlib.util.module_from_spec(_book_spec)
sys.modules["build_book"] = book  # its dataclasses look their module up while it loads
_book_spec.loader.exec_module(book)


def test_edited_prose_reuses_the_executed_outputs(tmp_path):
    """A page that trains for minutes is not run again for a sentence: the fingerprint reads
    the code cells only, and a reused page shows the prose as it is now."""
    import nbformat

    path = tmp_path / "page.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Accuracy: ?", id="prose"),
                                         nbformat.v4.new_code_cell("print(0.99)", id="code")])
    nbformat.write(nb, path)
    page = book.Page(path, "en", "page", "lectures")
    before = book._fingerprint(page, fast=False)
    executed = nbformat.read(path, as_version=4)
    executed.cells[1].outputs = [nbformat.v4.new_output("stream", text="0.99\n")]
    nb.cells[0].source = "Accuracy: 99 %"
    nbformat.write(nb, path)
    assert book._fingerprint(page, fast=False) == before
    shown = book._with_prose_of(executed, nbformat.read(path, as_version=4))
    assert shown.cells[0].source == "Accuracy: 99 %"
    assert shown.cells[1].outputs[0]["text"] == "0.99\n"
    nb.cells[1].source = "print(0.98)"
    nbformat.write(nb, path)
    assert book._fingerprint(page, fast=False) != before
    assert book._fingerprint(page, fast=True) != book._fingerprint(page, fast=False)
