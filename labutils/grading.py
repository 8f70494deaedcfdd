"""Check helpers for the assignments' test cells: assertions whose messages say what is wrong.

Tests compute their expected values from the reference implementations at test time; these
helpers only compare and explain. Hidden tests live in source/ notebooks, never here.
"""

from __future__ import annotations

import contextlib
import dis
import json
import os
import sys
import types
from pathlib import Path

import numpy as np


def assert_shape(actual, expected_shape, what: str) -> None:
    """Fail with both shapes named (and a hint when the shape is merely transposed)."""
    shape = np.shape(actual)
    if tuple(shape) == tuple(expected_shape):
        return
    hint = " (it looks transposed)" if tuple(shape[::-1]) == tuple(expected_shape) else ""
    raise AssertionError(f"{what} has shape {tuple(shape)}, expected {tuple(expected_shape)}{hint}")


def assert_close(actual, expected, what: str, rtol: float = 1e-6, atol: float = 1e-8,
                 hint: str = "") -> None:
    """Fail unless ``actual`` matches ``expected`` in shape and value, naming the worst entry."""
    if actual is None:
        raise AssertionError(f"{what} is None: did the function forget to return its result?")
    assert_shape(actual, np.shape(expected), what)
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(actual)):
        raise AssertionError(f"{what} contains nan or inf{'; ' + hint if hint else ''}")
    gap = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    if np.all(gap <= 0):
        return
    worst = np.unravel_index(np.argmax(gap), gap.shape) if gap.ndim else ()
    message = (f"{what} is wrong at index {tuple(int(i) for i in worst)}: got {actual[worst]:.6g}, "
               f"expected {expected[worst]:.6g}")
    raise AssertionError(message + (f". {hint}" if hint else ""))


# ---------------------------------------------------------------- NumPy-only submissions
# An assignment that asks for NumPy code is graded against torch; a submission that calls torch
# (or scipy) would pass without teaching anything. These helpers find such calls by reading the
# bytecode, and block the imports while the submission runs.

FORBIDDEN_MODULES = ("torch", "scipy")


def _top_module(name) -> str:
    return (name or "").split(".")[0]


def _listed(modules) -> str:
    """('torch', 'scipy', 'x') -> 'torch, scipy or x'."""
    return " or ".join([", ".join(modules[:-1]), modules[-1]] if len(modules) > 1 else modules)


def _functions(obj):
    """The plain functions behind obj: itself, or every method of a class and its bases."""
    if not isinstance(obj, type):
        return [getattr(obj, "__func__", obj)]
    found = []
    for klass in obj.__mro__[:-1]:  # not `object`
        for value in vars(klass).values():
            if isinstance(value, property):
                found += [f for f in (value.fget, value.fset, value.fdel) if f is not None]
            else:
                found.append(getattr(value, "__func__", value))
    return [f for f in found if isinstance(f, types.FunctionType)]


def _global_references(function):
    """(name, value or None) for every global name a function loads or module it imports
    (``from m import a, b`` inside the function reads as "m.a" and "m.b")."""
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
        fromlist = None
        for instruction in dis.get_instructions(code):
            if instruction.opname == "IMPORT_NAME":
                module = instruction.argval
                for name in fromlist or [""]:
                    yield f"{module}.{name}" if name else module, None
            elif instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                yield instruction.argval, function.__globals__.get(instruction.argval)
            constant = instruction.argval if instruction.opname == "LOAD_CONST" else None
            fromlist = constant if isinstance(constant, tuple) else None


def _uses(obj, modules, allowed=()):
    """{"name (module) in function": module} for what obj uses from `modules`, less `allowed`."""
    uses, seen, todo = {}, set(), [obj]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        for function in _functions(item):
            for name, value in _global_references(function):
                origin = (value.__name__ if isinstance(value, types.ModuleType)
                          else getattr(value, "__module__", None) if value is not None else name)
                source = name if origin == name else f"{name} ({origin})"
                if _top_module(origin) in modules:
                    if not _in_modules(origin, allowed):
                        uses.setdefault(f"{source} in {function.__qualname__}", origin)
                elif (isinstance(value, (types.FunctionType, type))
                      and value.__module__ == getattr(obj, "__module__", None)):
                    todo.append(value)
    return uses


def _in_modules(name, modules) -> bool:
    """Whether the dotted `name` is one of `modules` or lies inside one."""
    return any(name == module or name.startswith(module + ".") for module in modules)


def forbidden_uses(obj, modules=FORBIDDEN_MODULES) -> list[str]:
    """What a function or class uses from `modules`: "name (module) in function" strings.

    The module is left out where it is the name itself ("torch in forward").

    Finds global names bound to a forbidden module or to anything defined in one (`F.conv2d`,
    `from torch import conv2d`), imports inside the code, and the same in every helper function
    or class of obj's own module that obj calls. Comments and docstrings do not count; [] means
    NumPy only as far as the code shows (a runtime check is ``numpy_only``).
    """
    return list(_uses(obj, modules))


def assert_numpy_only(*objects, modules=FORBIDDEN_MODULES) -> None:
    """Fail, naming what was used, if a function or class of the submission uses `modules`."""
    for obj in objects:
        uses = forbidden_uses(obj, modules)
        if uses:
            raise AssertionError(f"{obj.__qualname__} uses {', '.join(uses)}: write it with "
                                 f"NumPy only, without {_listed(modules)}")


@contextlib.contextmanager
def numpy_only(what: str, modules=FORBIDDEN_MODULES):
    """While the block runs, importing `modules` fails; such an import becomes an AssertionError.

    `what` names the code under test in the message. Modules already imported are put back
    afterwards, so the tests can still use torch outside the block.
    """
    saved = {name: module for name, module in sys.modules.items()
             if _top_module(name) in modules}
    for name in [*saved, *modules]:
        sys.modules[name] = None  # `import name` now raises ImportError
    try:
        yield
    except ImportError as err:
        if _top_module(err.name) not in modules:
            raise
        raise AssertionError(f"{what} imports {err.name}: write it with NumPy only, "
                             f"without {_listed(modules)}") from None
    finally:
        for name in modules:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


# ---------------------------------------------------------------- the student's own code
# The graders compare a submission with labutils' reference implementations, so a submission
# that is, inherits from or calls one of them would pass by copying the answer. And a returned
# value is compared only once it is of a type whose `==` can be trusted: an object of the
# student's own class could claim to equal everything.

REFERENCE_PACKAGE = "labutils"
TRUSTED_LIBRARIES = ("builtins", "numpy", "torch")
_REFERENCE_DIR = os.path.join(Path(__file__).resolve().parent, "")  # ends with a separator


def _name(klass) -> str:
    """int -> 'int', numpy.ndarray -> 'numpy.ndarray', a class of the notebook -> its name."""
    top = _top_module(klass.__module__)
    if top in ("builtins", "__main__"):
        return klass.__qualname__
    return f"{top}.{klass.__qualname__}"


def _borrowed(obj, allowed) -> str | None:
    """How obj is labutils' code rather than the notebook's, in a few words; None if it is not."""
    if not isinstance(obj, (types.FunctionType, type)):
        return f"is a {_name(type(obj))}, not a function or class written in the notebook"
    for klass in obj.__mro__[:-1] if isinstance(obj, type) else [obj]:
        module = klass.__module__ or ""
        if _top_module(module) == REFERENCE_PACKAGE and (
                klass is obj or not _in_modules(module, allowed)):
            return f"{'is' if klass is obj else 'inherits from'} {module}.{klass.__qualname__}"
    for function in _functions(obj):
        copied = function.__code__.co_filename.startswith(_REFERENCE_DIR)
        if copied and not _in_modules(function.__module__ or "", allowed):
            return f"runs the code of {function.__module__}.{function.__qualname__}"
    uses = _uses(obj, (REFERENCE_PACKAGE,), allowed)
    return f"uses {', '.join(uses)}" if uses else None


def assert_own_code(*objects, what: str = "", allowed=()) -> None:
    """Fail unless every function or class in `objects` is the student's own code.

    Refused: an object defined in labutils (``AND = labutils.perceptron.AND``), a class that
    inherits from one, a callable that is no plain function or class (``functools.partial``),
    code copied out of labutils, and code that uses labutils (found as by ``forbidden_uses``,
    in the notebook's helpers it calls too). `allowed` names the labutils modules the
    assignment lets students use ("labutils.data"); `what` names the graded part in the
    message (by default the object's own name).
    """
    for obj in objects:
        problem = _borrowed(obj, allowed)
        if problem:
            name = getattr(obj, "__qualname__", None) or type(obj).__name__
            extra = f"; of labutils only {_listed(list(allowed))} may be used" if allowed else ""
            raise AssertionError(f"{name} {problem}: write {what or 'it'} yourself, without "
                                 f"labutils' reference code{extra}")


def _trusted(klass) -> bool:
    """A class of builtins, NumPy or torch, found under its own name there (not a look-alike)."""
    if _top_module(klass.__module__) not in TRUSTED_LIBRARIES:
        return False
    found = sys.modules.get(klass.__module__)
    for part in klass.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is klass


def assert_type(actual, expected_types, what: str, hint: str = "") -> None:
    """Fail unless ``actual`` is an instance of `expected_types` (a type or a tuple of types) whose
    class and bases all come from builtins, NumPy or torch, so that its `==` can be trusted.

    Call it before comparing a returned value: an object of the student's own class (even one
    that inherits from int, or sits in an array of dtype object) could claim to equal
    everything, so arrays must hold numbers. `hint` ends the message.
    """
    if actual is None:
        raise AssertionError(f"{what} is None: did the function forget to return its result?")
    expected = expected_types if isinstance(expected_types, tuple) else (expected_types,)
    names = _listed([_name(klass) for klass in expected])
    klass, hint = type(actual), f"; {hint}" if hint else ""
    if not isinstance(actual, expected):
        raise AssertionError(f"{what} is of type {_name(klass)}, expected {names}{hint}")
    if not all(_trusted(base) for base in klass.__mro__):
        raise AssertionError(f"{what} is of type {_name(klass)}, a class of your own: return a "
                             f"plain {names}{hint}")
    if isinstance(actual, np.ndarray) and actual.dtype.kind not in "biufc":
        raise AssertionError(f"{what} is an array of dtype {actual.dtype}, expected numbers{hint}")


# ---------------------------------------------------------------- trained models as artifacts
# A graded notebook never trains for long in the grader: the student's own run saves the trained
# weights and the accuracy it measured, the grader loads them and measures again on the test set.

ARTIFACT_DIR = "artifacts"
STATE_FILE = "cnn_state.pt"
METRICS_FILE = "metrics.json"


def save_artifacts(model, metrics: dict, folder=ARTIFACT_DIR, state_file=STATE_FILE):
    """Write ``model.state_dict()`` (as ``state_file``) and ``metrics`` (a JSON object, as
    metrics.json) into ``folder``."""
    import torch
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / state_file)
    (folder / METRICS_FILE).write_text(json.dumps(metrics, indent=1))
    return folder


def load_artifacts(build, folder=ARTIFACT_DIR, state_file=STATE_FILE):
    """(model, metrics): a fresh ``build()`` carrying the saved weights, and the saved metrics.

    Raises AssertionError with one sentence naming what is wrong: a missing file, a file that
    is not a state_dict, weights that do not fit ``build()``'s layers, metrics that are not a
    JSON object with a numeric ``test_accuracy``. Loading never runs code from the file
    (``weights_only=True``).
    """
    import torch
    folder = Path(folder)
    state_path, metrics_path = folder / state_file, folder / METRICS_FILE
    for path in (state_path, metrics_path):
        if not path.is_file():
            raise AssertionError(f"no trained model found: {path} is missing. Run the training "
                                 f"cell, which saves it, and submit the {folder}/ folder too")
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as err:  # any unreadable file is the same mistake for the student
        raise AssertionError(f"{state_path} is not a saved state_dict ({type(err).__name__}); "
                             "save it with torch.save(model.state_dict(), path)") from None
    if not isinstance(state, dict):
        raise AssertionError(f"{state_path} holds a {type(state).__name__}, not a state_dict")
    model = build()
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[:3]
        raise AssertionError(f"the weights in {state_path} do not fit {build.__name__}(): "
                             + " ".join(line.strip() for line in first)) from None
    try:
        metrics = json.loads(metrics_path.read_text())
    except ValueError:
        raise AssertionError(f"{metrics_path} is not valid JSON") from None
    accuracy = metrics.get("test_accuracy") if isinstance(metrics, dict) else None
    if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool):
        raise AssertionError(f"{metrics_path} needs a number under \"test_accuracy\", "
                             f"got {accuracy!r}")
    return model.eval(), metrics


def assert_claim_matches(claimed: float, measured: float, what: str,
                         tolerance: float = 0.005) -> None:
    """Fail unless the accuracy a student's notebook reported is the one the grader measures."""
    if not 0.0 <= claimed <= 1.0:
        raise AssertionError(f"{what}: the notebook saved {claimed:g}, which is not a fraction "
                             f"between 0 and 1 (the grader measures {measured:.4f}). Does "
                             "evaluate() divide by the number of images?")
    if abs(claimed - measured) > tolerance:
        raise AssertionError(f"{what}: the notebook saved {claimed:.2%}, but the saved model "
                             f"scores {measured:.2%} when the grader measures it. Is evaluate() "
                             "right, and were the weights saved after training?")


def weights_digest(module) -> str:
    """SHA-256 of every parameter and buffer of ``module`` (names, shapes and bytes): equal
    digests mean bit-identical weights, e.g. a frozen base that training left alone."""
    import hashlib
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(f"{name}{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
