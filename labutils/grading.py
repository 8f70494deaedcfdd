"""Check helpers for the assignments' test cells: assertions whose messages say what is wrong.

Tests compute their expected values from the reference implementations at test time; these
helpers only compare and explain. Hidden tests live in source/ notebooks, never here.
"""

from __future__ import annotations

import contextlib
import dis
import json
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
    """(name, value or None) for every global name a function loads or module it imports."""
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
        for instruction in dis.get_instructions(code):
            if instruction.opname == "IMPORT_NAME":
                yield instruction.argval, None
            elif instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                yield instruction.argval, function.__globals__.get(instruction.argval)


def forbidden_uses(obj, modules=FORBIDDEN_MODULES) -> list[str]:
    """What a function or class uses from `modules`: "name (module) in function" strings.

    The module is left out where it is the name itself ("torch in forward").

    Finds global names bound to a forbidden module or to anything defined in one (`F.conv2d`,
    `from torch import conv2d`), imports inside the code, and the same in every helper function
    or class of obj's own module that obj calls. Comments and docstrings do not count; [] means
    NumPy only as far as the code shows (a runtime check is ``numpy_only``).
    """
    uses, seen, todo = [], set(), [obj]
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
                use = f"{source} in {function.__qualname__}"
                if _top_module(origin) in modules and use not in uses:
                    uses.append(use)
                elif (isinstance(value, (types.FunctionType, type))
                      and value.__module__ == getattr(obj, "__module__", None)):
                    todo.append(value)
    return uses


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
