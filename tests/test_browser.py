"""The course in a real browser.

Starts JupyterLab headless on loopback from the project's venv, drives Debian's chromium
with Playwright, runs the perceptron notebook, moves one of its widget sliders and checks
that the widget's output was redrawn; then opens the nbgrader source of the same lesson
and checks that nbgrader's JupyterLab extension is loaded in the UI; last, switches
JupyterLab's language to Japanese (the language pack) and opens the Japanese edition of the
first lecture (course/ja/01_perceptron.ipynb) and screenshots it.

Needs ``make setup`` (scripts/install_browser.sh: Debian chromium + ``pip install
playwright``). When either is missing the test FAILS and says so; set
``LABUTILS_SKIP_BROWSER=1`` to skip it instead.

Screenshots land in ``build/browser/``. Override the notebooks with
``LABUTILS_BROWSER_NOTEBOOK`` / ``LABUTILS_BROWSER_ASSIGNMENT`` (paths relative to the repo
root) and the browser with ``LABUTILS_CHROMIUM``.

    .venv/bin/python -m pytest -m browser tests/test_browser.py
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "build" / "browser"
CHROMIUM = os.environ.get("LABUTILS_CHROMIUM", "/usr/bin/chromium")
NOTEBOOK = os.environ.get("LABUTILS_BROWSER_NOTEBOOK", "course/01_perceptron.ipynb")
ASSIGNMENT = os.environ.get(
    "LABUTILS_BROWSER_ASSIGNMENT", "source/01_perceptron/01_perceptron.ipynb"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

READY_TIMEOUT_S = 60  # first start of JupyterLab in a fresh venv can be slow
UI_TIMEOUT_MS = 60_000  # JupyterLab shell + notebook + kernel start
RUN_ALL_TIMEOUT_MS = 90_000  # the whole notebook
REDRAW_TIMEOUT_MS = 20_000  # one widget redraw

# JupyterLab user settings for the test's own, empty settings directory:
# - no autosave: the run must never write outputs back into the course's notebooks;
# - every cell attached to the DOM (no windowing), so prompts and outputs can be inspected;
# - no news / update checks (no internet here, and no toast over the page).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


# --------------------------------------------------------------------------- prerequisites


def _unavailable(reason: str) -> None:
    """Fail (default) or skip (LABUTILS_SKIP_BROWSER=1) when the browser tooling is missing."""
    if os.environ.get("LABUTILS_SKIP_BROWSER") == "1":
        pytest.skip(f"LABUTILS_SKIP_BROWSER=1: {reason}")
    pytest.fail(
        f"{reason}; run `make setup` (scripts/install_browser.sh) to install it", pytrace=False
    )


def _require_browser_tools():
    """Playwright's ``sync_playwright``, once chromium and playwright are known to be there."""
    if os.environ.get("LABUTILS_SKIP_BROWSER") == "1":
        pytest.skip("LABUTILS_SKIP_BROWSER=1: browser test skipped on request")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable(f"the playwright Python package is not installed in {sys.prefix}")
    return sync_playwright


@pytest.fixture(scope="module")
def sync_playwright():
    return _require_browser_tools()


def _fixtures(request, *names):
    """The tests check the tools in their own body (a missing browser is a FAILED test, not a
    setup ERROR) and only then ask for the fixtures that start JupyterLab and chromium."""
    _require_browser_tools()
    return [request.getfixturevalue(n) for n in names]


# --------------------------------------------------------------------------- JupyterLab


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter_executable() -> str:
    """The project's venv's jupyter (else the one beside the running Python)."""
    for exe in (REPO / ".venv" / "bin" / "jupyter", Path(sys.executable).parent / "jupyter"):
        if exe.exists():
            return str(exe)
    pytest.fail(
        f"no jupyter in .venv/bin nor beside {sys.executable}; run `make setup`", pytrace=False
    )


def _log_tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stop_process_group(proc: subprocess.Popen, base_url: str | None, token: str) -> None:
    """Shut the server down politely, then by signal; always reaps the whole group."""
    if proc.poll() is None and base_url:
        try:  # lets the server shut its kernels down
            req = urllib.request.Request(
                f"{base_url}/api/shutdown",
                method="POST",
                headers={"Authorization": f"token {token}"},
            )
            urllib.request.urlopen(req, timeout=5).close()
            proc.wait(timeout=10)
        except Exception:
            pass
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            pass
    try:  # stragglers left in the group (the server itself has exited)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="module")
def jupyter_lab(sync_playwright, tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a fresh token; yields (base_url, token)."""
    home = tmp_path_factory.mktemp("jupyterlab")
    settings_dir = home / "user-settings"
    for name, value in LAB_SETTINGS.items():
        plugin_file = settings_dir / name
        plugin_file.parent.mkdir(parents=True, exist_ok=True)
        plugin_file.write_text(json.dumps(value))
    (home / "workspaces").mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "jupyterlab.log"

    token = secrets.token_hex(24)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    cmd = [
        _jupyter_executable(), "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",  # (--ServerApp.token is its deprecated alias)
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={REPO}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # JupyterLab checkpoints every notebook it opens: keep them out of the repo
        f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}",
    ]
    env = dict(os.environ)
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("JUPYTER_TOKEN", None)
    # a browser IS attached here: labutils.widgets must show the real widgets, not the static
    # fallback the Makefile asks for in its headless runs
    env.pop("LABUTILS_HEADLESS", None)

    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,  # own process group: killpg
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited with code {proc.returncode} before it was ready:\n"
                    f"{_log_tail(log_path)}", pytrace=False,
                )
            try:
                req = urllib.request.Request(
                    f"{base_url}/api/status", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        json.load(resp)
                        break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab not ready on {base_url} after {READY_TIMEOUT_S} s:\n"
                    f"{_log_tail(log_path)}", pytrace=False,
                )
            time.sleep(0.25)
        yield base_url, token
    finally:
        _stop_process_group(proc, base_url, token)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser_context(sync_playwright, tmp_path_factory):
    """Debian chromium, headless, in a fresh user data dir; always closed."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        try:
            context = p.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1400, "height": 1100},
                timeout=60_000,
            )
        except Exception as exc:  # a chromium that does not start is an environment problem
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            pytest.fail(
                f"chromium at {CHROMIUM} did not start ({first}); run `make setup`", pytrace=False
            )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context, request):
    """A fresh tab; if the test fails, a screenshot goes to build/browser/FAILED-<test>.png."""
    failed_before = request.session.testsfailed
    pg = browser_context.new_page()
    console_errors: list[str] = []
    pg.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))
    try:
        yield pg
    finally:
        # the call phase's failure is counted before fixtures are torn down
        if request.session.testsfailed > failed_before:
            name = request.node.name
            try:
                pg.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
            except Exception:
                pass
            if console_errors:
                (ARTIFACTS / f"FAILED-{name}.console.txt").write_text("\n".join(console_errors))
        pg.close()


# --------------------------------------------------------------------------- helpers

# JS: the state of the notebook's code cells, read from their prompts ("[ ]:", "[*]:", "[3]:").
_CELLS_STATE_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const cells = [...panel.querySelectorAll('.jp-CodeCell')].map(c => {
    const p = c.querySelector('.jp-InputArea-prompt');
    const stderr = [...c.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.textContent).join('\\n');
    const src = c.querySelector('.jp-InputArea-editor');
    return {prompt: p ? p.textContent.trim() : '', stderr: stderr.slice(-3000),
            empty: !(src && src.textContent.trim())};
  });
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return {cells, kernel: status ? status.getAttribute('data-status') : null};
}
"""

# JS: the content of the output (not the controls) of the widget that holds the first slider.
_WIDGET_OUTPUT_JS = """
() => {
  const slider = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider');
  if (!slider) return null;
  const area = slider.closest('.jp-OutputArea-output') || slider.closest('.jp-Cell');
  const imgs = [...area.querySelectorAll('img')].map(i => i.getAttribute('src') || '');
  const outs = [...area.querySelectorAll('.widget-output, .jupyter-widgets-output-area')]
      .map(o => o.innerHTML);
  const htmls = [...area.querySelectorAll('.widget-html-content, .widget-htmlmath-content')]
      .map(h => h.innerHTML);
  return {imgs, outputs: outs.join('\\n'), htmls: htmls.join('\\n')};
}
"""


def _api(base_url: str, token: str, path: str):
    req = urllib.request.Request(f"{base_url}{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


def _wait_for_kernel(page, base_url: str, token: str, rel_path: str) -> None:
    """Wait until the notebook's kernel is started, connected to the page and idle.

    The toolbar's execution indicator reads "idle" before any kernel exists, so first wait
    for the server to see the notebook's session with a kernel connected over a websocket.
    """
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    sessions: list = []
    while time.monotonic() < deadline:
        sessions = [s for s in _api(base_url, token, "/api/sessions") if s.get("path") == rel_path]
        kernel = (sessions[0].get("kernel") or {}) if sessions else {}
        if kernel.get("connections", 0) >= 1 and kernel.get("execution_state") == "idle":
            break
        time.sleep(0.2)
    else:
        pytest.fail(
            f"no kernel connected for {rel_path} within {UI_TIMEOUT_MS // 1000} s: {sessions}"
        )
    page.wait_for_selector(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status="idle"]',
        timeout=UI_TIMEOUT_MS,
    )


def _open_notebook(page, base_url: str, token: str, rel_path: str) -> None:
    # "reset": a clean workspace, not the tabs a previous test left open
    page.goto(f"{base_url}/lab/tree/{rel_path}?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector("#jp-main-dock-panel .jp-NotebookPanel .jp-Cell", timeout=UI_TIMEOUT_MS)
    _wait_for_kernel(page, base_url, token, rel_path)


def _run_command_from_menu(page, menu_label: str, *command_ids: str) -> None:
    """Open a main-menu menu by its label and click the item bound to one of command_ids."""
    page.locator(".lm-MenuBar-item", has_text=menu_label).first.click()
    selector = ", ".join(f'.lm-Menu li.lm-Menu-item[data-command="{c}"]' for c in command_ids)
    item = page.locator(selector).first
    item.wait_for(state="visible", timeout=10_000)
    item.click()


def _run_all_and_wait(page) -> list[str]:
    """Clear the outputs (so every prompt reads "[ ]"), Run All Cells, wait for the end.

    Queued cells show "[*]"; the run is over when the kernel is idle, no cell is queued and at
    least one has run. JupyterLab stops a Run All at the first error and leaves the cells after
    it at "[ ]": then the test fails with that cell's error output.
    """
    _run_command_from_menu(page, "Edit", "editmenu:clear-all", "notebook:clear-all-cell-outputs")
    page.wait_for_function(
        f"() => {{ const s = ({_CELLS_STATE_JS})();"
        " return s && s.cells.every(c => !/\\d/.test(c.prompt)); }",
        timeout=10_000,
    )
    _run_command_from_menu(page, "Run", "runmenu:run-all", "notebook:run-all-cells")
    page.wait_for_function(
        f"""() => {{
            const s = ({_CELLS_STATE_JS})();
            if (!s || s.kernel !== 'idle') return false;
            const prompts = s.cells.map(c => c.prompt);
            return !prompts.some(p => p.includes('*')) && prompts.some(p => /\\d/.test(p));
        }}""",
        timeout=RUN_ALL_TIMEOUT_MS,
        polling=250,
    )
    cells = page.evaluate(_CELLS_STATE_JS)["cells"]
    # (JupyterLab does not execute an empty code cell)
    not_run = [
        i for i, c in enumerate(cells) if not c["empty"] and not re.search(r"\d", c["prompt"])
    ]
    if not_run:
        ran = [i for i, c in enumerate(cells) if i < not_run[0] and not c["empty"]]
        culprit = cells[ran[-1]] if ran else {"prompt": "?", "stderr": ""}
        pytest.fail(
            f"Run All Cells stopped: code cell #{not_run[0] + 1} of {len(cells)} never ran; "
            f"the cell before it ({culprit['prompt']}) printed:\n"
            f"{culprit['stderr'] or '(nothing on stderr)'}",
            pytrace=False,
        )
    return [c["prompt"] for c in cells]


def _shot(page, name: str) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def _wait_until_kernel_idle(page, base_url: str, token: str, rel_path: str) -> None:
    """The kernel has handled everything sent to it (the server's view), and the page agrees."""
    deadline = time.monotonic() + REDRAW_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        sessions = [s for s in _api(base_url, token, "/api/sessions") if s.get("path") == rel_path]
        if sessions and (sessions[0].get("kernel") or {}).get("execution_state") == "idle":
            break
        time.sleep(0.1)
    page.wait_for_selector(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status="idle"]',
        timeout=REDRAW_TIMEOUT_MS,
    )


# --------------------------------------------------------------------------- tests


def test_perceptron_widget_redraws_in_jupyterlab(request):
    (base_url, token), page = _fixtures(request, "jupyter_lab", "page")
    assert (REPO / NOTEBOOK).is_file(), f"{NOTEBOOK} is missing"
    _open_notebook(page, base_url, token, NOTEBOOK)
    prompts = _run_all_and_wait(page)
    assert prompts, f"{NOTEBOOK} has no code cell"

    # the interactive widget rendered: its first slider, and an output beside it
    slider = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider").first
    slider.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    page.wait_for_function(
        f"() => {{ const o = ({_WIDGET_OUTPUT_JS})();"
        " return o && (o.imgs.length || o.outputs || o.htmls); }",
        timeout=REDRAW_TIMEOUT_MS,
    )
    _wait_until_kernel_idle(page, base_url, token, NOTEBOOK)
    # widget at the top of the view, so the screenshots show the sliders and the figure
    slider.evaluate(
        "e => (e.closest('.jp-OutputArea-output') || e).scrollIntoView({block: 'start'})"
    )
    before = page.evaluate(_WIDGET_OUTPUT_JS)
    readout = slider.locator(".widget-readout").first
    value_before = readout.inner_text()
    _shot(page, "01_perceptron_before.png")

    # move the slider one step with the keyboard on its focused handle (noUiSlider);
    # one step right, or left when it already sits at its maximum: exactly one redraw
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for key in ("ArrowRight", "ArrowLeft"):
        handle.press(key)
        if readout.inner_text() != value_before:
            break
    value_after = readout.inner_text()
    assert value_after != value_before, f"slider did not move (readout stayed {value_before!r})"

    # the figure (its image src) -- or, for a widget without a figure, its output -- is redrawn
    key = "imgs" if before["imgs"] else "outputs"
    page.wait_for_function(
        f"""(before) => {{
            const o = ({_WIDGET_OUTPUT_JS})();
            return o && o.{key}.length > 0 && JSON.stringify(o.{key}) !== before;
        }}""",
        arg=json.dumps(before[key]),
        timeout=REDRAW_TIMEOUT_MS,
    )
    _wait_until_kernel_idle(page, base_url, token, NOTEBOOK)  # the redraw is complete
    after = page.evaluate(_WIDGET_OUTPUT_JS)
    _shot(page, "02_perceptron_after.png")
    assert after[key] != before[key], f"widget output ({key}) unchanged after moving the slider"
    if before["imgs"]:
        assert after["imgs"] and after["imgs"] != before["imgs"], "decision-line figure not redrawn"


def test_nbgrader_extension_in_assignment(request):
    (base_url, token), page = _fixtures(request, "jupyter_lab", "page")
    assert (REPO / ASSIGNMENT).is_file(), f"{ASSIGNMENT} is missing"
    _open_notebook(page, base_url, token, ASSIGNMENT)

    # nbgrader's labextension adds an "Nbgrader" main menu and a Validate toolbar button
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").first.wait_for(
        state="visible", timeout=UI_TIMEOUT_MS
    )
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").first.wait_for(
        state="visible", timeout=UI_TIMEOUT_MS
    )
    # its "Create assignment" side panel (opened from that menu) shows the cells' nbgrader roles
    _run_command_from_menu(page, "Nbgrader", "nbgrader:open-create-assignment")
    panel = page.locator("[id^='nbgrader-create_assign']").first  # sic: "assignemnt" upstream
    panel.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    role_selects = panel.locator(".nbgrader-CellType select")
    role_selects.first.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    roles = role_selects.evaluate_all(
        "els => els.map(e => e.options[e.selectedIndex] ? e.options[e.selectedIndex].text : '')"
    )
    _shot(page, "03_nbgrader_assignment.png")
    graded = [r for r in roles if r and r != "-"]
    assert graded, f"no cell of {ASSIGNMENT} has an nbgrader role in Create Assignment: {roles}"


# --------------------------------------------------------------------------- JupyterLab in Japanese

JA_NOTEBOOK = "course/ja/01_perceptron.ipynb"
TRANSLATION_SETTINGS = "/lab/api/settings/@jupyterlab/translation-extension:plugin"


def _put_settings(base_url: str, token: str, path: str, raw: str) -> None:
    req = urllib.request.Request(
        f"{base_url}{path}", data=json.dumps({"raw": raw}).encode(), method="PUT",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=5).close()


def test_jupyterlab_in_japanese_opens_the_japanese_edition(request):
    """The language pack is installed, JupyterLab's menus are Japanese once its language is
    ja_JP, and the Japanese edition of lecture 1 opens in it (build/browser/04_...png)."""
    (base_url, token), page = _fixtures(request, "jupyter_lab", "page")
    languages = _api(base_url, token, "/lab/api/translations")["data"]
    assert "ja_JP" in languages, (
        f"no Japanese language pack in JupyterLab ({sorted(languages)}): run `make setup`")
    before = _api(base_url, token, TRANSLATION_SETTINGS).get("raw") or "{}"
    _put_settings(base_url, token, TRANSLATION_SETTINGS, json.dumps({"locale": "ja_JP"}))
    try:
        _open_notebook(page, base_url, token, JA_NOTEBOOK)
        menu = page.locator("#jp-menu-panel .lm-MenuBar-item")
        menu.filter(has_text="ファイル").first.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
        title = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownOutput h1",
                             has_text="パーセプトロン")
        title.first.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
        _shot(page, "04_japanese_ui.png")
        labels = [label.strip() for label in menu.all_inner_texts()]
    finally:
        _put_settings(base_url, token, TRANSLATION_SETTINGS, before)
    assert "ファイル" in labels and "編集" in labels and "File" not in labels, labels
