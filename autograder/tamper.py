"""Find code in a submission that changes the checking code instead of answering.

The tests of a notebook run in the same Python process as the student's code, so a cell such as
``np.allclose = lambda *a, **k: True`` would make every comparison pass. The sandbox cannot see
that; reading the code can. This module reads the cells a student wrote (never the test cells,
which nbgrader restores) and reports every assignment, deletion or ``setattr`` that reaches
into a module the checks rely on, every write to ``sys.modules`` or builtins, and dynamic code
(``exec``, ``eval``, ``compile``, ``__import__``, ``importlib.import_module``) that would hide
such a change, or a module, from reading.
Ordinary code never does any of these in this course's assignments.
"""

from __future__ import annotations

import ast

# Modules whose functions decide whether a test passes.
GUARDED = {"numpy", "np", "unittest", "torch", "labutils", "builtins", "__builtins__", "sys",
           "math", "pytest", "importlib", "IPython", "ipykernel", "nbgrader", "gc"}
DYNAMIC = {"exec", "eval", "compile", "__import__"}
REFLECTIVE = {"setattr", "delattr"}


def _root_name(node: ast.AST) -> str | None:
    """'np' for np.testing.assert_allclose, 'sys' for sys.modules['x']."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound to guarded modules by imports: {'np': 'numpy', 'tc': 'unittest'}."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = node.module.split(".")[0]
    return names


def findings(code: str) -> list[str]:
    """One short description per tampering construct in ``code`` ([] when clean)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []  # the cell fails on its own; nothing is changed by it
    aliases = _aliases(tree)

    def guarded(node) -> bool:
        root = _root_name(node) if not isinstance(node, ast.Name) else node.id
        return root is not None and (root in GUARDED or aliases.get(root) in GUARDED)

    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)) and guarded(target):
                found.append(f"line {node.lineno}: changes {ast.unparse(target)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "import_module":
            found.append(f"line {node.lineno}: calls {ast.unparse(node.func)}()")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in DYNAMIC or (name in REFLECTIVE and node.args and guarded(node.args[0])):
                found.append(f"line {node.lineno}: calls {name}()")
    return found


def student_code(notebook: dict, trusted: set[str]) -> list[str]:
    """Sources of the code cells a student wrote: every code cell whose source is not one of
    the ``trusted`` sources (the test and locked cells of the instructor's notebook; nbgrader
    has restored those by the time this runs)."""
    cells = []
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "code" and source not in trusted:
            cells.append(source)
    return cells


def trusted_sources(source_notebook: dict) -> set[str]:
    """The instructor's test and locked code cells."""
    trusted = set()
    for cell in source_notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and (meta.get("grade") or meta.get("locked")):
            source = cell.get("source", "")
            trusted.add("".join(source) if isinstance(source, list) else source)
    return trusted


def scan(notebook: dict, source_notebook: dict) -> list[str]:
    """Tampering found in the cells of ``notebook`` that the student wrote."""
    trusted = trusted_sources(source_notebook)
    return [finding for code in student_code(notebook, trusted) for finding in findings(code)]
