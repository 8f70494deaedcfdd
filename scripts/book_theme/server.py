"""The course's MyST site theme: plain HTML pages, no JavaScript, nothing from the internet.

Jupyter Book 2 (`jupyter-book build --html`) turns the notebooks into MyST's AST, serves it as
JSON on CONTENT_CDN_PORT, starts a theme with PORT, asks it for every page and writes what it
answers as the static site. The themes it would otherwise download (book-theme) come from
GitHub, which this machine cannot reach; this one is the stdlib: it renders each page's AST
to HTML, with the table of contents beside it. Figures are the files MyST extracted from the
notebooks' outputs, which the build copies to /build/.
"""

from __future__ import annotations

import html
import json
import os
import re
import urllib.request
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTENT = f"http://localhost:{os.environ.get('CONTENT_CDN_PORT', '3100')}"
STYLE = "course-book.css"  # in public/, which the build copies to the site's root
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def fetch(path: str):
    with urllib.request.urlopen(CONTENT + path, timeout=30) as response:
        return json.load(response)


@lru_cache(maxsize=1)
def site() -> dict:
    return fetch("/config.json")


def project() -> dict:
    return site()["projects"][0]


# --------------------------------------------------------------------------- the AST as HTML

TAGS = {"paragraph": "p", "emphasis": "em", "strong": "strong", "blockquote": "blockquote",
        "listItem": "li", "table": "table", "tableRow": "tr", "subscript": "sub",
        "superscript": "sup", "delete": "del", "underline": "u", "caption": "figcaption",
        "container": "figure", "aside": "aside", "admonition": "aside",
        "admonitionTitle": "strong", "definitionList": "dl", "definitionTerm": "dt",
        "definitionDescription": "dd"}


def children(node: dict) -> str:
    return "".join(render(child) for child in node.get("children", []))


def render(node: dict) -> str:
    kind, value = node.get("type"), node.get("value", "")
    if kind == "text":
        return html.escape(value)
    if kind == "heading":
        depth = min(max(int(node.get("depth", 2)), 1), 6)
        anchor = f' id="{html.escape(node["identifier"])}"' if node.get("identifier") else ""
        return f"<h{depth}{anchor}>{children(node)}</h{depth}>\n"
    if kind == "inlineCode":
        return f"<code>{html.escape(value)}</code>"
    if kind == "code":
        return f'<pre class="code"><code>{html.escape(value)}</code></pre>\n'
    if kind in ("math", "inlineMath"):
        tag, delimiter = ("div", "$$") if kind == "math" else ("span", "$")
        shown = node.get("html") or html.escape(f"{delimiter}{value}{delimiter}")
        return f'<{tag} class="math">{shown}</{tag}>'
    if kind in ("link", "crossReference"):
        url = node.get("url") or (f"#{node['identifier']}" if node.get("identifier") else "#")
        return f'<a href="{html.escape(url)}">{children(node)}</a>'
    if kind == "list":
        tag = "ol" if node.get("ordered") else "ul"
        start = f' start="{node["start"]}"' if node.get("ordered") and node.get("start") else ""
        return f"<{tag}{start}>{children(node)}</{tag}>\n"
    if kind == "tableCell":
        tag = "th" if node.get("header") else "td"
        return f"<{tag}>{children(node)}</{tag}>"
    if kind == "image":
        return f'<img src="{html.escape(asset(node.get("url", "")))}" ' \
               f'alt="{html.escape(node.get("alt", ""))}">'
    if kind == "html":
        return value  # the course's own notebooks: trusted
    if kind == "break":
        return "<br>"
    if kind == "thematicBreak":
        return "<hr>\n"
    if kind == "block":
        return f'<section class="cell">{children(node)}</section>\n'
    if kind == "output":
        return "".join(output(data) for data in outputs_of(node))
    if kind in TAGS:
        return f"<{TAGS[kind]}>{children(node)}</{TAGS[kind]}>"
    return children(node)  # roots, directives, roles, spans: their content


def outputs_of(node: dict) -> list[dict]:
    """The Jupyter outputs an output node holds (MyST has stored them in two shapes)."""
    data = node.get("jupyter_data", node.get("data", []))
    return data if isinstance(data, list) else [data]


def asset(path: str) -> str:
    """Files MyST extracted (figures) are served from /build/ on the built site."""
    if re.match(r"^[a-z]+:|^/build/|^#", path):
        return path
    return "/build/" + path.lstrip("/")


def mime(data: dict, kind: str):
    """The content of one MIME type of an output: inline text, or the path of its file."""
    entry = data.get(kind)
    if isinstance(entry, dict):
        return entry.get("content"), entry.get("path")
    return ("".join(entry) if isinstance(entry, list) else entry), None


def output(out: dict) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        text = out.get("text", "")
        text = "".join(text) if isinstance(text, list) else text
        return f'<pre class="output">{html.escape(text)}</pre>'
    if kind == "error":
        return f'<pre class="output error">{html.escape(out.get("ename", ""))}: ' \
               f'{html.escape(out.get("evalue", ""))}</pre>'
    data = out.get("data", {})
    for image in ("image/png", "image/jpeg", "image/svg+xml"):
        content, path = mime(data, image)
        if path:
            return f'<img class="figure" src="{html.escape(asset(path))}" alt="figure">'
        if content and image != "image/svg+xml":
            return f'<img class="figure" src="data:{image};base64,{content}" alt="figure">'
    content, _ = mime(data, "text/html")
    if content:
        return f'<div class="output">{content}</div>'
    content, _ = mime(data, "text/plain")
    return f'<pre class="output">{html.escape(content)}</pre>' if content else ""


# --------------------------------------------------------------------------- pages


def page_html(slug: str) -> str:
    page = fetch(f"/content/{slug}.json")
    title = page.get("frontmatter", {}).get("title") or slug
    body = render(page["mdast"])
    lang = "ja" if JAPANESE.search(title) else "en"
    nav = "".join(
        f'<li class="level-{p.get("level", 1)}"><a href="/{p["slug"]}">'
        f'{html.escape(p.get("title") or p["slug"])}</a></li>' if "slug" in p else
        f'<li class="part">{html.escape(p.get("title", ""))}</li>'
        for p in project().get("pages", []))
    home = html.escape(project().get("title") or site().get("title") or "")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/{STYLE}">'
            f'</head><body><nav class="toc"><a class="home" href="/">{home}</a><ul>{nav}</ul>'
            f'</nav><main><article><h1>{html.escape(title)}</h1>\n{body}</article></main>'
            f"</body></html>\n")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        path = self.path.split("?")[0].strip("/")
        index = project().get("index", "index")
        try:
            if path.endswith(".json"):
                body, kind = json.dumps(fetch(f"/content/{path}")).encode(), "application/json"
            elif path in ("robots.txt", "sitemap.xml", "sitemap_style.xsl", "favicon.ico",
                          "myst-theme.css"):
                body, kind = b"", "text/plain"
            else:
                body, kind = page_html(path or index).encode(), "text/html; charset=utf-8"
        except (OSError, KeyError, ValueError) as err:
            self.send_error(404, str(err))
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"course book theme started at http://localhost:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
