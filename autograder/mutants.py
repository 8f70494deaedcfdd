"""Mechanical mutants of a solution cell: one small edit each, made on Python's syntax tree.

    for mutant in mutants(code, cell="gates"):
        mutant.name, mutant.code     # "gates:17:Gt->GtE", the edited cell's source

Operators (each applied at every place it fits, inside functions only, docstrings left alone):
arithmetic (+ -, * /, ** *, @ *), comparisons (> >=, < <=, == !=), `and`/`or`, augmented
assignment made plain (``+=`` -> ``=``), a numeric constant changed (n -> n + 1, x -> 2x, 0 -> 1),
``True``/``False`` flipped, a unary minus or `not` dropped, the first two arguments of a call
swapped, a keyword argument dropped, a comprehension's ``if`` dropped, ``return x`` made
``return None``, one statement of a block deleted. Names are stable for the same code, so a
surviving mutant can be listed by name.
"""

from __future__ import annotations

import ast
import copy
import random
from dataclasses import dataclass

SWAP_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
              ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.MatMult: ast.Mult, ast.Mod: ast.Mult}
SWAP_COMPARE = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
                ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
                ast.In: ast.NotIn, ast.NotIn: ast.In}


@dataclass
class Mutant:
    name: str   # cell:site:operator
    cell: str   # grade_id of the solution cell
    code: str   # the whole cell, edited


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _in_functions(tree: ast.AST) -> list[ast.AST]:
    """Nodes inside function bodies, in a fixed order."""
    nodes = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            nodes.append(node)  # its own body can lose a statement
            for statement in node.body:
                nodes += list(ast.walk(statement))
    seen, unique = set(), []
    for node in nodes:  # nested functions are walked twice
        if id(node) not in seen:
            seen.add(id(node))
            unique.append(node)
    return unique


def _edits(node: ast.AST, docstrings: set[int]):
    """(operator label, function that edits a copy of the node in place) for one node."""
    if isinstance(node, ast.BinOp) and type(node.op) in SWAP_BINOP:
        new = SWAP_BINOP[type(node.op)]
        yield f"{type(node.op).__name__}->{new.__name__}", lambda n: setattr(n, "op", new())
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in SWAP_COMPARE:
                new = SWAP_COMPARE[type(op)]

                def swap(n, i=i, new=new):
                    n.ops[i] = new()
                yield f"{type(op).__name__}->{new.__name__}", swap
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield f"{type(node.op).__name__}->{new.__name__}", lambda n: setattr(n, "op", new())
    if isinstance(node, ast.Constant) and id(node) not in docstrings \
            and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        value = node.value
        changed = 1 if value == 0 else (value + 1 if isinstance(value, int) else value * 2)
        yield f"{value!r}->{changed!r}", lambda n: setattr(n, "value", changed)
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield f"{node.value}->{not node.value}", lambda n: setattr(n, "value", not n.value)
    if isinstance(node, ast.Return) and node.value is not None \
            and not (isinstance(node.value, ast.Constant) and node.value.value is None):
        yield "return-None", lambda n: setattr(n, "value", ast.Constant(None))
    if isinstance(node, ast.comprehension) and node.ifs:
        yield "drop-if", lambda n: setattr(n, "ifs", [])
    if isinstance(node, ast.Call):
        for i, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                yield f"drop-{keyword.arg}=", lambda n, i=i: n.keywords.pop(i)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        yield f"drop-{type(node.op).__name__}", "unwrap"
    if isinstance(node, ast.Call) and len(node.args) >= 2 \
            and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
        def swap_args(n):
            n.args[0], n.args[1] = n.args[1], n.args[0]
        yield "swap-args", swap_args
    for field in ("body", "orelse"):
        block = getattr(node, field, None)
        if isinstance(block, list) and len(block) >= 2:
            for i, statement in enumerate(block):
                if isinstance(statement, ast.Expr) and id(statement.value) in docstrings:
                    continue
                def delete(n, i=i, field=field):
                    getattr(n, field).pop(i)
                yield f"delete-{field}-{i}", delete


def _unwrap_unary(tree: ast.AST, target_index: int, order: list[ast.AST]) -> None:
    """Replace the UnaryOp at ``target_index`` of ``order`` by its operand."""
    target = order[target_index]
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, target.operand)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is target:
                        value[i] = target.operand
                        return


def solution_lines(code: str) -> set[int]:
    """Line numbers between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (what the student
    writes); every line when the cell has no markers."""
    lines, inside = set(), False
    for number, line in enumerate(code.splitlines(), start=1):
        marker = line.strip()
        if marker == "### BEGIN SOLUTION":
            inside = True
        elif marker == "### END SOLUTION":
            inside = False
        elif inside:
            lines.add(number)
    return lines or set(range(1, len(code.splitlines()) + 1))


def _site(node: ast.AST, label: str) -> int | None:
    """The line an edit changes: the deleted statement's, or the node's own."""
    if label.startswith("delete-"):
        _, field, i = label.split("-")
        return getattr(node, field)[int(i)].lineno
    if isinstance(node, ast.comprehension):
        return node.target.lineno
    return getattr(node, "lineno", None)


def mutants(code: str, cell: str) -> list[Mutant]:
    """Every single-edit mutant of the student's part of a solution cell (that still compiles):
    the code the instructor gives around it is not the student's to get wrong."""
    tree = ast.parse(code)
    student_lines = solution_lines(code)
    found = []
    for index, node in enumerate(_in_functions(tree)):
        for label, edit in list(_edits(node, _docstrings(tree))):
            if _site(node, label) not in student_lines:
                continue
            copy_tree = copy.deepcopy(tree)
            copy_order = _in_functions(copy_tree)
            if edit == "unwrap":
                _unwrap_unary(copy_tree, index, copy_order)
            else:
                edit(copy_order[index])
            try:
                mutated = ast.unparse(ast.fix_missing_locations(copy_tree))
                compile(mutated, cell, "exec")
            except (SyntaxError, ValueError, TypeError):
                continue
            if mutated != ast.unparse(tree):
                found.append(Mutant(f"{cell}:{index}:{label}", cell, mutated))
    return found


def sample(all_mutants: list[Mutant], count: int, seed: int = 0) -> list[Mutant]:
    """A seeded sample of ``count`` mutants, spread over the cells in proportion."""
    chosen = list(all_mutants)
    random.Random(seed).shuffle(chosen)
    return sorted(chosen[:count], key=lambda m: m.name)
