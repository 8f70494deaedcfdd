"""The class runner's parts: the sandbox itself, tamper detection, outcomes, resume."""

import csv
import json
import socket
import subprocess
import sys
import threading

import nbformat
import pytest

from conftest import REPO

from autograder import grade, sandbox, tamper

needs_bwrap = pytest.mark.skipif(sandbox.available() is not None, reason="no bubblewrap here")


def run_sandboxed(tmp_path, code, **limits):
    """Run Python ``code`` in the sandbox with tmp_path/work as its directory."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    sandbox.give_to_sandbox_user(str(work))
    argv = sandbox.wrap([sys.executable, "-c", code], str(work), sandbox.Limits(**limits))
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


# ---------------------------------------------------------------- the sandbox

@needs_bwrap
def test_sandbox_hides_the_course_and_shows_the_data(tmp_path):
    from labutils import data
    code = ("import os, sys\n"
            f"print(os.path.exists({str(REPO / 'source')!r}), "
            f"os.path.exists({str(REPO / 'nbgrader_config.py')!r}), "
            f"os.path.isdir({str(data.data_root().resolve())!r}), os.path.exists('/root/.bashrc'))")
    done = run_sandboxed(tmp_path, code)
    assert done.stdout.split() == ["False", "False", "True", "False"], done.stderr


@needs_bwrap
def test_sandbox_writes_only_its_own_directory(tmp_path):
    outside = tmp_path / "outside.txt"
    code = ("import os\n"
            "open('mine.txt', 'w').write('ok')\n"
            f"for path in [{str(outside)!r}, {str(REPO / 'x.txt')!r}, '/tmp/x', '/x']:\n"
            "    try:\n"
            "        open(path, 'w').write('escaped')\n"
            "    except OSError:\n"
            "        pass\n")
    done = run_sandboxed(tmp_path, code)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "work" / "mine.txt").read_text() == "ok"
    assert not outside.exists() and not (REPO / "x.txt").exists()


@needs_bwrap
def test_sandbox_has_no_network(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    port = server.getsockname()[1]
    code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), 2)\n"
            "    print('connected')\nexcept OSError as err:\n    print('refused')")
    done = run_sandboxed(tmp_path, code)
    server.close()
    assert done.stdout.strip() == "refused" and not accepted


@needs_bwrap
def test_sandbox_limits_memory_and_keeps_no_process(tmp_path):
    code = ("import subprocess, sys\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
            "'stray-test-marker'], start_new_session=True)\n"
            "import numpy as np\ntry:\n    np.ones(2 * 1024 ** 3, dtype=np.uint8)\n"
            "    print('allocated')\nexcept MemoryError:\n    print('MemoryError')")
    done = run_sandboxed(tmp_path, code, memory_mb=1024)
    assert done.stdout.strip() == "MemoryError", done.stderr
    left = subprocess.run(["pgrep", "-f", "stray-test-marker"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


# ---------------------------------------------------------------- tampering

ATTACKS = {
    "np.allclose = lambda *a, **k: True": "changes np.allclose",
    "import numpy\nnumpy.testing.assert_allclose = print": "changes numpy.testing.assert_allclose",
    "import unittest as u\nu.TestCase.assertEqual = print": "changes u.TestCase.assertEqual",
    "from labutils import grading\ngrading.assert_close = print": "changes grading.assert_close",
    "import sys\nsys.modules['numpy'] = None": "changes sys.modules['numpy']",
    "import builtins\nbuiltins.AssertionError = Warning": "changes builtins.AssertionError",
    "import numpy as np\nsetattr(np, 'allclose', max)": "calls setattr()",
    "exec('x = 1')": "calls exec()",
    "import importlib\nP = importlib.import_module('labutils.perceptron')":
        "calls importlib.import_module()",
}


@pytest.mark.parametrize("code, finding", ATTACKS.items())
def test_tampering_is_found(code, finding):
    assert any(finding in line for line in tamper.findings(code)), tamper.findings(code)


@pytest.mark.parametrize("path", sorted(REPO.glob("source/*/*.ipynb"))
                         + sorted(REPO.glob("course/*.ipynb")), ids=lambda p: p.name)
def test_course_code_is_not_tampering(path):
    notebook = json.loads(path.read_text())
    code = [c["source"] for c in notebook["cells"] if c["cell_type"] == "code"]
    assert [f for cell in code for f in tamper.findings("".join(cell))] == []


def test_tests_restored_by_nbgrader_are_not_scanned_but_student_cells_are():
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nnp.x = 1", metadata={"nbgrader": {"grade": True, "locked": True}})])
    submitted = json.loads(json.dumps(source))
    assert tamper.scan(submitted, source) == []
    submitted["cells"].append(nbformat.v4.new_code_cell("import numpy as np\nnp.y = 2"))
    assert tamper.scan(submitted, source) == ["line 2: changes np.y"]


# ---------------------------------------------------------------- outcomes

def _executed(*enames):
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("error", ename=e, evalue="", traceback=[])
                    for e in enames]
    return nbformat.v4.new_notebook(cells=[cell])


@pytest.mark.parametrize("enames, code, log, status", [
    ((), 0, "", "graded"),
    (("AssertionError",), 0, "", "graded"),
    (("KeyboardInterrupt", "CellTimeoutError"), 0, "", "timed out"),
    (("MemoryError",), 0, "", "out of memory"),
    ((), 1, "nbclient.exceptions.DeadKernelError: Kernel died", "kernel died"),
    ((), None, "", "timed out"),
])
def test_outcome_of_an_executed_notebook(enames, code, log, status):
    assert grade.outcome_of([_executed(*enames)], code, log)[0] == status


def test_no_executed_notebook_is_a_dead_kernel():
    assert grade.outcome_of([], 1, "something\nlast line")[0] == "kernel died"


def test_precheck_settles_missing_broken_and_linked_notebooks(tmp_path):
    names = ["01_perceptron.ipynb"]
    assert grade.precheck(tmp_path, names)[0] == "no notebook submitted"
    (tmp_path / names[0]).symlink_to(REPO / "source" / "01_perceptron" / names[0])
    assert grade.precheck(tmp_path, names)[0] == "no notebook submitted"
    (tmp_path / names[0]).unlink()
    (tmp_path / names[0]).write_text("{ not json")
    assert grade.precheck(tmp_path, names)[0] == "not a notebook"
    (tmp_path / names[0]).write_text(nbformat.writes(nbformat.v4.new_notebook()))
    assert grade.precheck(tmp_path, names) is None


def test_scratch_copy_leaves_symlinks_behind(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "sub" / "a.txt").write_text("a")
    (tmp_path / "in" / "link").symlink_to(REPO / "nbgrader_config.py")
    grade.copy_plain(tmp_path / "in", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["a.txt", "sub"]


def test_void_tests_fails_every_graded_cell():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("t", metadata={"nbgrader": {"grade": True}}),
        nbformat.v4.new_code_cell("s", metadata={"nbgrader": {"solution": True}})])
    grade.void_tests(notebook, "changed the checks")
    assert [len(c.outputs) for c in notebook.cells] == [1, 0]
    assert notebook.cells[0].outputs[0]["evalue"] == "changed the checks"


def test_state_remembers_digests(tmp_path):
    state = grade.State(tmp_path)
    (tmp_path / grade.EXECUTED / "ann" / "01").mkdir(parents=True)
    state.record("ann/01", "d1", grade.Outcome("ann", "01", "graded"))
    state.record("bob/01", "d1", grade.Outcome("bob", "01", "not a notebook"))
    state.record("cid/01", "d1", grade.Outcome("cid", "01", "kernel died"))
    again = grade.State(tmp_path)
    assert again.done("ann/01", "d1") and again.done("bob/01", "d1")
    assert not again.done("ann/01", "d2")
    assert not again.done("cid/01", "d1"), "no executed notebook: grade it again"
    assert not again.done("dan/01", "d1")


def test_limits_come_from_the_course_config():
    limits = grade.read_limits({"memory_mb": 123})
    assert limits.memory_mb == 123
    assert limits.wall_seconds == 600 and limits.output_bytes == 200_000


# ---------------------------------------------------------------- resume, end to end

@pytest.mark.slow
def test_rerun_grades_only_what_changed(tmp_path):
    from autograder import roundtrip
    root = tmp_path / "course"
    roundtrip.prepare(root)
    roundtrip.nbgrader(root, "generate_assignment", "01_perceptron", "--force")
    for student, given in (("ann", "source"), ("bob", "release")):  # solved / untouched
        folder = root / "submitted" / student / "01_perceptron"
        folder.mkdir(parents=True)
        notebook = REPO / given / "01_perceptron" / "01_perceptron.ipynb"
        (folder / notebook.name).write_bytes(notebook.read_bytes())
        # what nbgrader's collect puts beside a submission from the exchange
        (folder / "submission_secret.txt").write_text(f"secret of {student}")
    lines = []
    rows = grade.grade_class(root, ["01_perceptron"], workers=2, log=lines.append)
    assert {r["student_id"]: float(r["score"]) for r in rows} == {"ann": 10.0, "bob": 0.0}
    # release_feedback needs the secret in autograded/ (tests/test_hub.py does it for real)
    secret = root / "autograded" / "ann" / "01_perceptron" / "submission_secret.txt"
    assert secret.read_text() == "secret of ann"
    assert "0 already graded, 2 to grade" in lines[0]
    notebook = root / "submitted" / "bob" / "01_perceptron" / "01_perceptron.ipynb"
    notebook.write_bytes((REPO / "source" / "01_perceptron" / "01_perceptron.ipynb").read_bytes())
    lines.clear()
    rows = grade.grade_class(root, ["01_perceptron"], workers=2, log=lines.append)
    assert "1 already graded, 1 to grade" in lines[0]
    assert {r["student_id"]: float(r["score"]) for r in rows} == {"ann": 10.0, "bob": 10.0}
    lines.clear()
    grade.grade_class(root, ["01_perceptron"], workers=2, force=True, log=lines.append)
    assert "0 already graded, 2 to grade" in lines[0]
    # The cluster path: list the submissions, grade each as its own job, record once.
    def cli(*args):
        done = subprocess.run([sys.executable, str(REPO / "autograder" / "grade.py"),
                               "--root", str(root), *args],
                              capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()

    keys = cli("--list")
    assert keys == ["ann/01_perceptron", "bob/01_perceptron"]
    notebook.write_bytes((REPO / "release" / "01_perceptron" / "01_perceptron.ipynb").read_bytes())
    assert cli("--one", keys[0]) == ["ann/01_perceptron: graded already"]
    assert cli("--one", keys[1]) == ["bob/01_perceptron: graded"]
    cli("--record")
    with open(root / "grades.csv") as f:
        rows = {r["student_id"]: (float(r["score"]), r["status"]) for r in csv.DictReader(f)}
    assert rows == {"ann": (10.0, "graded"), "bob": (0.0, "graded")}
