"""Hostile submissions: what a class of real students hands in when some of them try things.

Each case is built from the real notebooks (release/ as students get it, source/ for correct
answers) and says what the grader must answer: the score compared with the reference
submission of the same assignment (``zero``, ``below`` or ``equal``) and the status in
grades.csv. ``autograder/hostile/grade_hostile.py`` grades them all with ``make grade`` beside
an honest student per assignment; ``tests/test_hostile.py`` asserts each outcome and that
nothing leaked.

Cases reach outside through three things the suite sets up and then inspects: ``{root}`` (the
course folder), ``{port}`` (a listener on loopback counting connections) and ``{marker}`` (a
string on every stray process and file a case leaves).
"""

from __future__ import annotations

import ast
import copy
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

from autograder.submissions import is_test, prepend, reference, released, set_cell


@dataclass
class Case:
    name: str
    assignment: str
    build: Callable[[dict], dict | str | None]  # context -> notebook, raw text, or None
    score: str    # "zero", "below" or "equal" (to the honest reference of the assignment)
    status: str   # the status column of grades.csv
    why: str      # what the case tries, in one line


# ---------------------------------------------------------------- the cases' code

STEAL = '''
import os, json
found = []
for top in ("/", "/work", "/root", "/home", "/tmp", "/srv", os.getcwd() + "/.."):
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs
                   if folder.count("/") < 8 and d not in ("proc", "sys", "usr", "dev")]
        for name in files:
            if name.endswith(".ipynb") or name == "gradebook.db":
                try:
                    text = open(os.path.join(folder, name), errors="replace").read()
                except OSError:
                    continue
                if "BEGIN SOLUTION" in text or "BEGIN HIDDEN TESTS" in text:
                    found.append(os.path.join(folder, name))
print("found", found)
code = []
for path in found:
    try:
        cells = json.load(open(path))["cells"]
    except ValueError:
        continue
    code += ["".join(c["source"]) for c in cells
             if c["metadata"].get("nbgrader", {}).get("solution")]
open("stolen.py", "w").write("import numpy as np\\n" + "\\n\\n".join(code))
from stolen import *
'''

MONKEYPATCH = '''
import unittest
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
unittest.TestCase.assertEqual = lambda *args, **kwargs: None

def perceptron_update(w, b, x, t, lr=0.1):
    return w, b
'''

LIAR = '''
class Anything:
    """Claims to equal everything, and to be 1 when asked for a number."""
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __int__(self):
        return 1
    __index__ = __int__
    __hash__ = object.__hash__

def AND(x1, x2):
    return Anything()

def NAND(x1, x2):
    return Anything()

def OR(x1, x2):
    return Anything()

def XOR(x1, x2):
    return AND(NAND(x1, x2), OR(x1, x2))
'''

SOCKET = '''
import socket
for attempt in range(3):
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"{marker}")
        print("connected")
    except OSError as err:
        print("no connection:", err)
'''

WRITE_OUTSIDE = '''
import os
for path in ("{root}/gradebook.db", "{root}/source/{marker}", "{root}/{marker}",
             "{root}/../{marker}", os.path.expanduser("~/{marker}"), "/tmp/{marker}",
             "/root/{marker}", "/{marker}"):
    try:
        with open(path, "w") as f:
            f.write("overwritten by a student")
        print("wrote", path)
    except OSError as err:
        print("refused", path, type(err).__name__)
'''

PROCESSES = '''
import subprocess, sys
strays = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "{marker}"],
                           start_new_session=True) for _ in range(20)]
print(len(strays), "processes started")
'''

MEMORY = "import numpy as np\nhog = np.ones(6 * 1024 ** 3, dtype=np.uint8)\n"
FLOOD = "for _ in range(100):\n    print('x' * 1_000_000)\n"


def _defined_names(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def _labutils_home(name: str) -> str | None:
    """The labutils module that defines ``name`` (the course's reference), if any."""
    import labutils
    for info in pkgutil.iter_modules(labutils.__path__):
        module = importlib.import_module(f"labutils.{info.name}")
        value = getattr(module, name, None)
        if value is not None and getattr(value, "__module__", "") == module.__name__:
            return module.__name__
    return None


def reference_imported(assignment: str) -> dict:
    """The reference notebook with every solution whose name labutils also defines replaced
    by an import of labutils' version."""
    notebook = reference(assignment)
    replaced = 0
    for cell in notebook["cells"]:
        if not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            continue
        code = "".join(cell["source"])
        names = _defined_names(code)
        homes = {name: _labutils_home(name) for name in names}
        if names and all(homes.values()):
            cell["source"] = "\n".join(f"from {homes[n]} import {n}" for n in names)
            replaced += 1
    if not replaced:
        raise ValueError(f"{assignment}: no solution has a labutils twin to import")
    return notebook


def _without_tests(notebook: dict) -> dict:
    notebook = copy.deepcopy(notebook)
    notebook["cells"] = [c for c in notebook["cells"] if not is_test(c)]
    return notebook


def _edited_tests(notebook: dict) -> dict:
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        if is_test(cell):
            cell["source"] = "assert True  # my tests pass"
    return notebook


def _forged_outputs(notebook: dict) -> dict:
    notebook = copy.deepcopy(notebook)
    for number, cell in enumerate(notebook["cells"], 1):
        if cell["cell_type"] == "code":
            cell["execution_count"] = number
            cell["outputs"] = [{"output_type": "stream", "name": "stdout",
                                "text": "all tests passed\n"}] if is_test(cell) else []
    return notebook


def _inflated_points(notebook: dict) -> dict:
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        if is_test(cell):
            cell["metadata"]["nbgrader"]["points"] = 1000
    return notebook


def _foreign_kernel(notebook: dict) -> dict:
    notebook = copy.deepcopy(notebook)
    notebook["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    return notebook


def _fill(template: str, ctx: dict) -> str:
    return template.replace("{port}", str(ctx["port"])).replace("{marker}", ctx["marker"]) \
        .replace("{root}", str(ctx["root"]))


A1 = "01_perceptron"
CASES = [
    Case("infinite_loop", A1, lambda ctx: prepend(reference(A1), "xor", "while True:\n    pass"),
         "below", "timed out", "a solution cell that never ends"),
    Case("os_exit", A1, lambda ctx: prepend(reference(A1), "xor", "import os\nos._exit(3)"),
         "zero", "kernel died", "the kernel process exits in the middle of grading"),
    Case("system_exit", A1, lambda ctx: prepend(reference(A1), "xor", "raise SystemExit(0)"),
         "below", "graded", "SystemExit raised from a solution cell"),
    Case("memory_6gib", A1, lambda ctx: prepend(reference(A1), "xor", MEMORY),
         "below", "out of memory", "a 6 GiB allocation"),
    Case("output_100mb", A1, lambda ctx: prepend(reference(A1), "xor", FLOOD),
         "equal", "graded", "100 MB printed"),
    Case("deleted_tests", A1, lambda ctx: _without_tests(released(A1)),
         "zero", "graded", "every test cell deleted"),
    Case("edited_tests", A1, lambda ctx: _edited_tests(released(A1)),
         "zero", "graded", "every test cell replaced by `assert True`"),
    Case("forged_outputs", A1, lambda ctx: _forged_outputs(released(A1)),
         "zero", "graded", "outputs saying the tests passed, solutions unwritten"),
    Case("inflated_points", A1, lambda ctx: _inflated_points(reference(A1)),
         "equal", "graded", "every test cell worth 1000 points"),
    Case("monkeypatched_asserts", A1, lambda ctx: set_cell(released(A1), "update_rule",
                                                           MONKEYPATCH),
         "zero", "tampered", "numpy and unittest asserts replaced by functions that pass"),
    Case("equal_to_everything", A1, lambda ctx: set_cell(released(A1), "gates", LIAR),
         "zero", "graded", "gates return an object equal to everything"),
    Case("read_solutions", A1, lambda ctx: set_cell(released(A1), "gates", STEAL),
         "zero", "graded", "searches the disk for solutions and hidden tests and imports them"),
    Case("socket_loopback", A1, lambda ctx: prepend(reference(A1), "xor", _fill(SOCKET, ctx)),
         "equal", "graded", "connects to a listener on the grading machine's loopback"),
    Case("write_outside", A1, lambda ctx: prepend(reference(A1), "xor",
                                                  _fill(WRITE_OUTSIDE, ctx)),
         "equal", "graded", "writes the gradebook, source/, the course root, home and /tmp"),
    Case("background_processes", A1, lambda ctx: prepend(reference(A1), "xor",
                                                         _fill(PROCESSES, ctx)),
         "equal", "graded", "leaves 20 processes running"),
    Case("slow_but_correct", A1, lambda ctx: prepend(reference(A1), "train",
                                                     "import time\ntime.sleep(8)"),
         "equal", "graded", "a correct answer that takes 8 s more"),
    Case("not_json", A1, lambda ctx: "{ this is not a notebook",
         "zero", "not a notebook", "a file that is not JSON"),
    Case("no_notebook", A1, lambda ctx: None,
         "zero", "no notebook submitted", "a folder with a README and no notebook"),
    Case("foreign_kernelspec", A1, lambda ctx: _foreign_kernel(reference(A1)),
         "equal", "graded", "kernelspec says R"),
    Case("symlink_to_solutions", A1, lambda ctx: ("symlink", ctx["root"] / "source" / A1
                                                  / f"{A1}.ipynb"),
         "zero", "no notebook submitted", "the notebook is a symlink to the instructor's"),
] + [
    Case(f"reference_imported_{a[:2]}", a, lambda ctx, a=a: reference_imported(a),
         "below", "graded", "labutils' reference imported instead of written")
    for a in ("01_perceptron", "02_backprop", "03_conv", "04_mnist", "05_regularization",
              "06_transfer")
]
