"""The course on a real JupyterHub: release, fetch, work, validate, submit, collect, grade,
feedback -- with real Unix users, nbgrader's exchange and a real browser.

The hub runs hub/jupyterhub_config.py (the configuration docs/deploy.md describes) from the
project's venv with configurable-http-proxy (scripts/install_hub.sh) on loopback; this test adds
only paths and a shared-password login. One instructor and three students are created with
useradd for the test and removed after it, even when it fails:

- the instructor releases 01_perceptron with nbgrader, as that Unix user;
- student A logs in in Chromium, fetches the assignment from the Assignments tab, types the
  reference solutions in, clicks Validate and Submit (screenshots in build/hub/);
- students B (untouched) and C (half right: autograder/samples) do the same through the hub's
  REST API and their own servers' nbgrader endpoints;
- the instructor collects, `make grade` grades (the sandboxed runner, as root), the instructor
  generates and releases feedback, and every student fetches theirs.

Expected scores come from grading the same three notebooks locally with the same runner.
Runs as root only (useradd, runuser): elsewhere it is skipped and says why.

    make test-hub
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO
from test_browser import (CHROMIUM, CHROMIUM_ARGS, LAB_SETTINGS, _free_port, _log_tail,
                          _require_browser_tools, _run_command_from_menu)
from test_roundtrip import _hidden_lines, html_text

# the sandboxed class runner, the partial sample, released and reference notebooks
from autograder import grade, roundtrip, submissions

pytestmark = pytest.mark.hub

ASSIGNMENT = "01_perceptron"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
COURSE_ID = "dl-image-recognition"
VENV = REPO / ".venv"
ARTIFACTS = REPO / "build" / "hub"
# Names unlikely to exist on a machine; the comment marks accounts this test may remove.
INSTRUCTOR = "dlhub-teacher"
STUDENTS = {"A": "dlhub-alice", "B": "dlhub-bob", "C": "dlhub-carol"}
ACCOUNT_MARK = "labutils test_hub account"
SPAWN_TIMEOUT_S = 120
UI_TIMEOUT_MS = 60_000
VALIDATE_TIMEOUT_MS = 120_000


def _users() -> list[str]:
    return [INSTRUCTOR, *STUDENTS.values()]


# --------------------------------------------------------------------------- Unix side


def as_user(user: str, *cmd: str, cwd: Path | None = None, env: dict | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """Run ``cmd`` as Unix user ``user`` with a clean environment (what that user would have)."""
    home = pwd.getpwnam(user).pw_dir
    clean = {"HOME": home, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
             "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin", **(env or {})}
    argv = ["runuser", "-u", user, "--", "env", "-i",
            *(f"{k}={v}" for k, v in clean.items()), *cmd]
    done = subprocess.run(argv, cwd=cwd or home, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"as {user}: {' '.join(cmd)} failed ({done.returncode}):\n"
                             f"{(done.stdout + done.stderr)[-3000:]}")
    return done


def _remove_account(user: str) -> None:
    """Kill what still runs as ``user`` (its own processes only), then remove it and its home."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return
    if entry.pw_gecos != ACCOUNT_MARK:
        raise RuntimeError(f"user {user} exists and is not this test's: not touching it")
    for pid in _pids_of(user):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["userdel", "--remove", user], capture_output=True)


def _pids_of(user: str) -> list[int]:
    done = subprocess.run(["pgrep", "-u", user], capture_output=True, text=True)
    return [int(pid) for pid in done.stdout.split()]


def _left_running(users: list[str], grace: float = 30.0) -> dict[str, list[str]]:
    """What each user still runs once the hub has exited: a server's kernels get a moment to
    exit after their server (they are told to shut down, not killed). "pid command" each."""
    deadline = time.monotonic() + grace
    while any(_pids_of(user) for user in users) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = {}
    for user in users:
        done = subprocess.run(["pgrep", "-a", "-u", user], capture_output=True, text=True)
        left[user] = done.stdout.splitlines()
    return left


def _create_account(user: str, homes: Path) -> Path:
    _remove_account(user)  # a previous run killed before its cleanup
    subprocess.run(["useradd", "--create-home", "--base-dir", str(homes), "--shell", "/bin/bash",
                    "--comment", ACCOUNT_MARK, user], check=True, capture_output=True)
    home = Path(pwd.getpwnam(user).pw_dir)
    home.chmod(0o700)  # nobody reads another's home (deployments: HOME_MODE 0700)
    return home


def _closed_parents(paths: list[Path]) -> list[Path]:
    """Folders on the way to ``paths`` that other users cannot traverse (no o+x)."""
    closed = []
    for path in paths:
        for folder in [*reversed(path.parents)]:
            if not folder.stat().st_mode & stat.S_IXOTH and folder not in closed:
                closed.append(folder)
    return closed


@contextmanager
def traversable(paths: list[Path]):
    """The users must run the venv's Python, whose base install may sit under a folder closed to
    them (pyenv in /root, mode 0700 on this machine). Open those folders for traversal only
    (o+x: no listing) while the test runs, and give them their mode back after."""
    closed = _closed_parents(paths)
    modes = {folder: folder.stat().st_mode for folder in closed}
    if closed:
        print(f"test_hub: opening {', '.join(map(str, closed))} for traversal (o+x) during the "
              "test: the course's Python lies behind it; restored after", file=sys.stderr)
    try:
        for folder in closed:
            folder.chmod(stat.S_IMODE(modes[folder]) | stat.S_IXOTH)
        yield
    finally:
        for folder, mode in modes.items():
            folder.chmod(stat.S_IMODE(mode))


def _give(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for item in [path, *path.rglob("*")]:
        os.lchown(item, entry.pw_uid, entry.pw_gid)


def _lab_settings(home: Path, user: str) -> None:
    """The browser test's JupyterLab settings (no autosave, no windowing, no news)."""
    settings = home / ".jupyter" / "lab" / "user-settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    _give(home / ".jupyter", user)


# --------------------------------------------------------------------------- the site


@dataclass
class Site:
    """Everything the test made: one temporary root, readable by the test's users."""
    root: Path
    homes: Path = field(init=False)
    exchange: Path = field(init=False)
    state: Path = field(init=False)
    jupyter: Path = REPO / "hub" / "jupyter"
    data: Path = field(init=False)
    port: int = field(default_factory=_free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(12))

    def __post_init__(self):
        from labutils import data
        self.homes, self.exchange, self.state = (self.root / n for n in ("home", "exchange",
                                                                        "hub"))
        self.data = data.data_root().resolve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def course(self) -> Path:
        return Path(pwd.getpwnam(INSTRUCTOR).pw_dir) / "course"

    def nbgrader_env(self) -> dict:
        """What the hub's spawner gives every user (hub/jupyterhub_config.py)."""
        return {"JUPYTER_CONFIG_PATH": str(self.jupyter), "NBGRADER_EXCHANGE": str(self.exchange),
                "LABUTILS_DATA": str(self.data)}


def _make_site() -> Site:
    root = Path(tempfile.mkdtemp(prefix="labutils-hub-"))
    root.chmod(0o755)  # the users traverse it to their homes and the exchange
    site = Site(root)
    site.homes.mkdir(mode=0o755)
    site.state.mkdir(mode=0o700)
    site.exchange.mkdir()
    site.exchange.chmod(0o1777)  # nbgrader: writable by all; sticky: nobody removes another's
    return site


def _prepare_instructor(site: Site) -> None:
    """The instructor's course folder: source/ of the assignment, the course's nbgrader_config.py
    (linked: it imports autograder/feedback.py beside it)."""
    course = site.course
    (course / "source").mkdir(parents=True)
    shutil.copytree(REPO / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("artifacts", "__pycache__"))
    (course / "nbgrader_config.py").symlink_to(REPO / "nbgrader_config.py")
    _give(course, INSTRUCTOR)


def instructor(site: Site, *args: str) -> str:
    done = as_user(INSTRUCTOR, "nbgrader", *args, cwd=site.course, env=site.nbgrader_env())
    return done.stdout + done.stderr


# --------------------------------------------------------------------------- the hub


class Hub:
    """JupyterHub from the venv, running hub/jupyterhub_config.py plus the test's login."""

    def __init__(self, site: Site):
        self.site = site
        self.log_path = ARTIFACTS / "jupyterhub.log"
        self.proc: subprocess.Popen | None = None
        self.proxy_pid: int | None = None

    def config(self) -> Path:
        path = self.site.state / "jupyterhub_test_config.py"
        path.write_text(
            "c = get_config()  # noqa\n"
            f"load_subconfig({str(REPO / 'hub' / 'jupyterhub_config.py')!r})  # noqa\n"
            "# the test's login: one shared password (docs/deploy.md: the university's instead)\n"
            "c.JupyterHub.authenticator_class = 'shared-password'\n"
            f"c.SharedPasswordAuthenticator.user_password = {self.site.password!r}\n"
            f"c.Authenticator.allowed_users = {set(_users())!r}\n"
            "# ports of its own, so that hubs of parallel runs do not meet\n"
            f"c.JupyterHub.hub_port = {_free_port()}\n"
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{_free_port()}'\n")
        return path

    def start(self) -> None:
        env = {**os.environ, "COURSE_ENV": str(VENV), "COURSE_DATA": str(self.site.data),
               "COURSE_JUPYTER": str(self.site.jupyter),
               "NBGRADER_EXCHANGE": str(self.site.exchange),
               "COURSE_HUB_STATE": str(self.site.state), "COURSE_HUB_URL": self.site.url,
               "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}"}
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [str(VENV / "bin" / "jupyterhub"), "-f", str(self.config())],
                cwd=self.site.state, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self) -> None:
        self._wait_answering()
        pid_file = self.site.state / "jupyterhub-proxy.pid"
        self.proxy_pid = int(pid_file.read_text()) if pid_file.exists() else None

    def _wait_answering(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"jupyterhub exited ({self.proc.returncode}):\n"
                            f"{_log_tail(self.log_path)}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{self.site.url}/hub/api/", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        pytest.fail(f"jupyterhub not ready in 60 s:\n{_log_tail(self.log_path)}", pytrace=False)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it: the hub stops the servers and the proxy."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def kill_leftovers(self) -> None:
        for pid in filter(None, [self.proxy_pid]):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def hub_api(site: Site, method: str, path: str, token: str | None = None,
            body: dict | None = None, timeout: float = 30):
    """One request to the hub or, through the proxy, to a user's server; JSON back (or None)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{site.url}{path}", data=data, method=method,
                                     headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip() else None


class ApiStudent:
    """A student who logs in with the hub's REST API and works through their server's API."""

    def __init__(self, site: Site, user: str):
        self.site, self.user = site, user
        # the hub takes the password in the request body and hands out a token
        self.token = hub_api(site, "POST", f"/hub/api/users/{user}/tokens", body={
            "auth": {"username": user, "password": site.password},
            "note": "test_hub", "expires_in": 3600})["token"]

    def start_server(self) -> None:
        hub_api(self.site, "POST", f"/hub/api/users/{self.user}/server", self.token)
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while time.monotonic() < deadline:
            model = hub_api(self.site, "GET", f"/hub/api/users/{self.user}", self.token)
            if (model.get("servers", {}).get("") or {}).get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{self.user}'s server not ready in {SPAWN_TIMEOUT_S} s")

    def server(self, method: str, path: str, body: dict | None = None, timeout: float = 120):
        return hub_api(self.site, method, f"/user/{self.user}{path}", self.token, body, timeout)

    def nbgrader(self, action: str) -> list:
        """POST /assignments/<action> of nbgrader's server extension; the assignment list back."""
        ids = {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT}
        return self.server("POST", f"/assignments/{action}", ids)

    def notebook(self) -> dict:
        return self.server("GET", f"/api/contents/{ASSIGNMENT}/{NOTEBOOK}")["content"]

    def save_notebook(self, notebook: dict) -> None:
        self.server("PUT", f"/api/contents/{ASSIGNMENT}/{NOTEBOOK}",
                    {"type": "notebook", "format": "json", "content": notebook})


# --------------------------------------------------------------------------- the answers


def reference_answers() -> dict[str, str]:
    """grade_id -> the reference solution of every solution cell (source/)."""
    return {submissions.grade_id(cell): submissions.source_of(cell)
            for cell in submissions.reference(ASSIGNMENT)["cells"] if submissions.is_solution(cell)}


def answered(released: dict, answers: dict[str, str]) -> dict:
    notebook = released
    for grade_id, code in answers.items():
        notebook = submissions.set_cell(notebook, grade_id, code)
    return notebook


def half_right(released: dict) -> dict:
    """The partial sample of autograder/samples (the gates right, XOR wrong, the rest undone)."""
    return roundtrip.partial_notebook(released, submissions.reference(ASSIGNMENT),
                                      roundtrip._load_sample(ASSIGNMENT))


def expected_scores(workdir: Path) -> dict[str, float]:
    """What the sandboxed runner gives the three notebooks the students submit, graded in a
    course folder of its own: {"A": ..., "B": ..., "C": ..., "max": ...}."""
    released = submissions.released(ASSIGNMENT)
    notebooks = {"A": answered(released, reference_answers()), "B": released,
                 "C": half_right(released)}
    submissions.new_course(workdir, [ASSIGNMENT])
    for key, notebook in notebooks.items():
        submissions.write_notebook(workdir / "submitted" / key / ASSIGNMENT, ASSIGNMENT, notebook)
    rows = grade.grade_class(workdir, [ASSIGNMENT], workers=2, log=lambda line: None)
    scores = {row["student_id"]: float(row["score"]) for row in rows}
    # the most the autograder gives: the written discussion waits for a person
    scores["max"] = float(rows[0]["max_score"]) - submissions.manual_points(ASSIGNMENT)
    return scores


# --------------------------------------------------------------------------- student A


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name))


def _assignments_panel(page):
    return page.locator("#nbgrader-assignment-list")


def _open_assignments_tab(page) -> None:
    _run_command_from_menu(page, "Nbgrader", "nbgrader:open-assignment-list")
    _assignments_panel(page).locator("#released_assignments_list").wait_for(state="visible")


def _type_answers(page, released: dict, answers: dict[str, str]) -> None:
    """Click into each solution cell, select its stub and type the answer over it."""
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    positions = {submissions.grade_id(c): i for i, c in enumerate(released["cells"])}
    for grade_id, code in answers.items():
        cell = cells.nth(positions[grade_id])
        if released["cells"][positions[grade_id]]["cell_type"] == "markdown":
            cell.dblclick()  # the written discussion: a rendered markdown cell opens its editor
        editor = cell.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(code)  # as typed text, without auto-indent of each line


def student_a_in_browser(site: Site, record: dict) -> None:
    """Log in, fetch, answer, validate, submit: every step a click, a screenshot of each."""
    sync_playwright = _require_browser_tools()
    user = STUDENTS["A"]
    profile = tempfile.mkdtemp(prefix="labutils-hub-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                viewport={"width": 1400, "height": 1000}, timeout=60_000)
            context.set_default_timeout(UI_TIMEOUT_MS)
            try:
                page = context.new_page()
                _browser_round(site, page, user, record)
            except Exception:
                _shot(page, "FAILED-student_a.png")
                raise
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _browser_round(site: Site, page, user: str, record: dict) -> None:
    page.goto(f"{site.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", site.password)
    _shot(page, "01_login.png")
    page.click("#login_submit")
    # the hub spawns the server and sends the browser on to JupyterLab
    page.wait_for_selector("#jp-main-dock-panel", timeout=SPAWN_TIMEOUT_S * 1000)
    _shot(page, "02_lab.png")

    _open_assignments_tab(page)
    panel = _assignments_panel(page)
    panel.locator("#released_assignments_list button", has_text="Fetch").first.click()
    fetched = panel.locator("#fetched_assignments_list")
    fetched.get_by_text(ASSIGNMENT).first.wait_for(state="visible")
    _shot(page, "03_fetched.png")

    # open the fetched notebook from the list: the last link of the row, once expanded
    notebook_link = fetched.locator("a", has_text=ASSIGNMENT).last
    if not notebook_link.is_visible():
        fetched.get_by_text(ASSIGNMENT).first.click()
    notebook_link.click()
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell")
    released = json.loads((Path(pwd.getpwnam(user).pw_dir) / ASSIGNMENT / NOTEBOOK).read_text())
    _type_answers(page, released, reference_answers())
    page.keyboard.press("Control+s")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden):not(.jp-mod-dirty)")
    _wait_saved(user, reference_answers())
    _shot(page, "04_answered.png")

    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(state="visible", timeout=VALIDATE_TIMEOUT_MS)
    page.wait_for_function("() => !/Validating/.test(document.querySelector('.jp-Dialog')"
                           "?.innerText || '')", timeout=VALIDATE_TIMEOUT_MS)
    record["validate_message"] = dialog.inner_text()
    _shot(page, "05_validated.png")
    dialog.locator("button").last.click()

    page.locator(".lm-TabBar-tab", has_text="Assignments").first.click()
    fetched.locator("button", has_text="Submit").first.click()
    submitted = panel.locator("#submitted_assignments_list")
    submitted.get_by_text(ASSIGNMENT).first.wait_for(state="visible")
    _shot(page, "06_submitted.png")


def _wait_saved(user: str, answers: dict[str, str]) -> None:
    """The notebook on disk holds the typed answers, character for character."""
    path = Path(pwd.getpwnam(user).pw_dir) / ASSIGNMENT / NOTEBOOK
    deadline, typed = time.monotonic() + 20, {}
    while time.monotonic() < deadline:
        try:
            saved = json.loads(path.read_text())
        except ValueError:  # read while the server was writing it: read it again
            time.sleep(0.3)
            continue
        typed = {gid: submissions.source_of(submissions.cell_of(saved, gid)) for gid in answers}
        if typed == answers:
            return
        time.sleep(0.3)
    if not typed:
        raise AssertionError(f"{path} never held a readable notebook in 20 s")
    diff = {gid: code for gid, code in typed.items() if code != answers[gid]}
    raise AssertionError(f"the answers typed in the browser were saved differently: {diff}")


# --------------------------------------------------------------------------- the round trip


@dataclass
class Outcome:
    scores: dict[str, float] = field(default_factory=dict)
    expected: dict[str, float] = field(default_factory=dict)
    validate_message: str = ""
    feedback: dict[str, list[Path]] = field(default_factory=dict)
    left_running: dict[str, list[str]] = field(default_factory=dict)
    proxy_alive_after: bool = True
    hub_exit: int | None = None
    seconds: float = 0.0  # the whole round trip, users created to hub stopped


def _step(name: str) -> None:
    """One line per step in build/hub/steps.txt: where the minutes go."""
    with open(ARTIFACTS / "steps.txt", "a") as f:
        f.write(f"{time.strftime('%H:%M:%S')} {name}\n")


def api_student_works(site: Site, key: str) -> ApiStudent:
    """Log in, start the server, fetch, (C: write the half-right answers), submit."""
    student = ApiStudent(site, STUDENTS[key])
    student.start_server()
    student.nbgrader("fetch")
    if key == "C":
        student.save_notebook(half_right(student.notebook()))
    student.nbgrader("submit")
    return student


def run_round_trip(site: Site, hub: Hub, outcome: Outcome) -> None:
    _step("hub start, release")
    hub.start()  # starts while the instructor releases
    instructor(site, "generate_assignment", ASSIGNMENT, "--force")
    instructor(site, "release_assignment", ASSIGNMENT)
    hub.wait_ready()

    _step("student A in chromium, students B and C through the API")
    record: dict = {}
    with ThreadPoolExecutor(max_workers=2) as pool:  # three students at once, as in a class
        working = {key: pool.submit(api_student_works, site, key) for key in ("B", "C")}
        student_a_in_browser(site, record)
        api_students = {key: future.result() for key, future in working.items()}
    outcome.validate_message = record["validate_message"]

    _step("collect, make grade")
    instructor(site, "collect", ASSIGNMENT)
    submissions.make_grade(site.course)  # as root: the sandbox needs it
    _give(site.course, INSTRUCTOR)       # the graded course back to its owner
    outcome.scores = _scores(site.course)
    _step("feedback")
    instructor(site, "generate_feedback", ASSIGNMENT)
    instructor(site, "release_feedback", ASSIGNMENT)

    api_students["A"] = ApiStudent(site, STUDENTS["A"])
    for key, student in api_students.items():
        student.nbgrader("fetch_feedback")
        home = Path(pwd.getpwnam(STUDENTS[key]).pw_dir)
        outcome.feedback[key] = sorted((home / ASSIGNMENT / "feedback").rglob("*.html"))

    _step("hub stop")
    hub.stop()
    _step("stopped")
    outcome.hub_exit = hub.proc.returncode
    outcome.left_running = _left_running(_users())
    outcome.proxy_alive_after = hub.proxy_pid is not None and _alive(hub.proxy_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _scores(course: Path) -> dict[str, float]:
    by_user = {user: key for key, user in STUDENTS.items()}
    with open(course / "grades.csv") as f:
        rows = [row for row in csv.DictReader(f) if row["assignment"] == ASSIGNMENT]
    scores = {by_user[row["student_id"]]: float(row["score"]) for row in rows}
    scores["max"] = float(rows[0]["max_score"]) - submissions.manual_points(ASSIGNMENT)
    return scores


@pytest.fixture(scope="module")
def hub_course(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root: creates Unix users (useradd) and runs commands as them "
                    "(runuser); CI runs as root")
    _require_browser_tools()
    if not (VENV / "bin" / "configurable-http-proxy").exists():
        pytest.fail("no configurable-http-proxy in .venv/bin: run `make setup` "
                    "(scripts/install_hub.sh)", pytrace=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "steps.txt").unlink(missing_ok=True)
    started = time.monotonic()
    site, outcome = _make_site(), Outcome()
    hub = Hub(site)
    needed = [Path(os.path.realpath(VENV / "bin" / "python")), VENV, site.data]
    with ExitStack() as stack:
        stack.enter_context(traversable(needed))
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        # the expectations are graded while the students work
        expected = pool.submit(expected_scores, tmp_path_factory.mktemp("expected") / "course")
        try:
            for user in _users():
                home = _create_account(user, site.homes)
                _lab_settings(home, user)
            _prepare_instructor(site)
            run_round_trip(site, hub, outcome)
            outcome.expected = expected.result()
            # reported, not asserted: wall time depends on the machine's load (goal: < 5 min)
            outcome.seconds = time.monotonic() - started
            _step(f"round trip done in {outcome.seconds:.0f} s")
            yield site, outcome
        finally:
            hub.stop()
            hub.kill_leftovers()
            for user in _users():
                _remove_account(user)
            shutil.rmtree(site.root, ignore_errors=True)


# --------------------------------------------------------------------------- the checks


def test_scores_are_the_local_grading_of_the_same_notebooks(hub_course):
    _, outcome = hub_course
    expected = outcome.expected
    assert expected["A"] == expected["max"] > 0, f"reference graded locally: {expected}"
    assert expected["B"] == 0 and 0 < expected["C"] < expected["max"], expected
    assert outcome.scores == expected, f"on the hub {outcome.scores}, locally {expected}"


def test_validate_in_the_browser_passed(hub_course):
    _, outcome = hub_course
    assert "Success! Your notebook passes all the tests." in outcome.validate_message, \
        outcome.validate_message


def test_every_student_fetched_feedback_without_hidden_tests(hub_course):
    _, outcome = hub_course
    hidden = _hidden_lines(ASSIGNMENT)
    assert hidden, "01_perceptron has no hidden test lines to look for"
    for key in STUDENTS:
        pages = outcome.feedback.get(key, [])
        assert [p.name for p in pages] == [f"{ASSIGNMENT}.html"], f"student {key}: {pages}"
        text = html_text(pages)
        assert "BEGIN HIDDEN TESTS" not in text
        assert [line for line in hidden if line in text] == [], f"student {key}'s feedback"
        assert "Traceback (most recent call last)" not in text


def _denied(user: str, shell_command: str) -> subprocess.CompletedProcess:
    return as_user(user, "sh", "-c", shell_command, check=False)


def test_a_student_cannot_read_another_submission_nor_the_source(hub_course):
    site, _ = hub_course
    inbound = site.exchange / COURSE_ID / "inbound"
    a_submission = f"{inbound}/{STUDENTS['A']}+{ASSIGNMENT}+*/{NOTEBOOK}"
    source = site.course / "source" / ASSIGNMENT / NOTEBOOK
    collected = site.course / "submitted" / STUDENTS["A"] / ASSIGNMENT / NOTEBOOK
    attempts = {"list the inbound": f"ls {inbound}", "read A's submission": f"cat {a_submission}",
                "read the source": f"cat {source}", "read A's collected work": f"cat {collected}"}
    for what, command in attempts.items():
        # the command is right: its owner runs it
        assert _denied(INSTRUCTOR, command).returncode == 0, f"instructor cannot {what}"
        done = _denied(STUDENTS["B"], command)
        assert done.returncode != 0, f"student B can {what}: {done.stdout[:200]}"


def test_the_data_is_one_read_only_copy_for_everyone(hub_course):
    site, _ = hub_course
    user = STUDENTS["B"]
    assert _denied(user, f"ls {site.data}/MNIST").returncode == 0
    assert _denied(user, f"touch {site.data}/written-by-a-student").returncode != 0


def test_hub_proxy_and_servers_stopped(hub_course):
    _, outcome = hub_course
    assert outcome.hub_exit is not None
    assert outcome.left_running == {user: [] for user in _users()}
    assert not outcome.proxy_alive_after, "configurable-http-proxy still runs"


def _exchange_layout(site: Site) -> set[str]:
    return {str(p.relative_to(site.exchange)) for p in site.exchange.rglob("*")}


def test_the_exchange_holds_only_what_nbgrader_put_there(hub_course):
    site, _ = hub_course
    released = {p.name for p in (site.course / "release" / ASSIGNMENT).iterdir()}
    course = re.escape(COURSE_ID)
    students = "|".join(re.escape(user) for user in STUDENTS.values())
    allowed = [
        rf"{course}(/(inbound|outbound|feedback))?",
        rf"{course}/outbound/{ASSIGNMENT}(/({'|'.join(map(re.escape, released))}))?",
        # a submission: STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM, the notebook, nbgrader's two files
        rf"{course}/inbound/({students})\+{ASSIGNMENT}\+[^/+]+\+[A-Za-z0-9_-]+"
        rf"(/({re.escape(NOTEBOOK)}|timestamp\.txt|submission_secret\.txt))?",
        rf"{course}/feedback/[0-9a-f]+\.html",
    ]
    layout = _exchange_layout(site)
    strays = [p for p in layout if not any(re.fullmatch(rule, p) for rule in allowed)]
    assert strays == []
    assert len([p for p in layout if p.startswith(f"{COURSE_ID}/feedback/")]) == 3
    assert len([p for p in layout if re.fullmatch(rf"{course}/inbound/[^/]+", p)]) == 3
