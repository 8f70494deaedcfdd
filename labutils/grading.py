"""The checks that tests, lectures and assignments share, in one place.

* assertions whose messages say what is wrong (``assert_close``, ``assert_type``, ...);
* gradient checks and oracles: ``rel_error``, ``numerical_gradient``, ``gradient_check``,
  ``layer_gradient_check``, the torch autograd oracle (``torch_gradients``, ``torch_error``) and
  ``random_array`` for inputs made at test time;
* NumPy-only and own-code checks of a submission; trained models as artifacts and digests.

Tests compute their expected values from the reference implementations at test time; these
helpers only compare and explain. Hidden tests live in source/ notebooks, never here.
"""

from __future__ import annotations

import contextlib
import dis
import hashlib
import json
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labutils.i18n import say


def assert_shape(actual, expected_shape, what: str) -> None:
    """Fail with both shapes named (and a hint when the shape is merely transposed)."""
    shape = np.shape(actual)
    if tuple(shape) == tuple(expected_shape):
        return
    hint = (say(" (it looks transposed)", "（転置になっているようだ）")
            if tuple(shape[::-1]) == tuple(expected_shape) else "")
    raise AssertionError(say("{what} has shape {shape}, expected {expected}{hint}",
                             "{what} の形が {shape} になっている。正しくは {expected}{hint}",
                             what=what, shape=tuple(shape), expected=tuple(expected_shape),
                             hint=hint))


def assert_close(actual, expected, what: str, rtol: float = 1e-6, atol: float = 1e-8,
                 hint: str = "") -> None:
    """Fail unless ``actual`` matches ``expected`` in shape and value, naming the worst entry."""
    if actual is None:
        raise AssertionError(_none_message(what))
    assert_shape(actual, np.shape(expected), what)
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(actual)):
        raise AssertionError(say("{what} contains nan or inf{hint}",
                                 "{what} に nan か inf が含まれている{hint}", what=what,
                                 hint=say("; {hint}", "。{hint}", hint=hint) if hint else ""))
    gap = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    if np.all(gap <= 0):
        return
    worst = np.unravel_index(np.argmax(gap), gap.shape) if gap.ndim else ()
    message = say("{what} is wrong at index {index}: got {got:.6g}, expected {want:.6g}",
                  "{what} がインデックス {index} で誤っている。得られた値は {got:.6g}、"
                  "正しくは {want:.6g}",
                  what=what, index=tuple(int(i) for i in worst), got=actual[worst],
                  want=expected[worst])
    raise AssertionError(message + (say(". {hint}", "。{hint}", hint=hint) if hint else ""))


def _none_message(what: str) -> str:
    return say("{what} is None: did the function forget to return its result?",
               "{what} が None である。関数が結果を return し忘れていないか？", what=what)


# ---------------------------------------------------------------- gradient checks and oracles
# One copy of the checks that lectures, tests and assignments share (CS231n's gradient_check.py):
# each *returns* its error, so a test can assert on it and a lecture can print it.


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient (f(x + h e_i) - f(x - h e_i)) / 2h of a scalar f at x.

    f is called as f(x). x (any shape, any strides, a view included) is perturbed in place
    one entry at a time and restored exactly; returns an array of x's shape.
    Use float64: with h = 1e-5 in float32 the rounding of f alone is off by ~1e-2.
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(say("x must be a float array (float64 for checking), got {dtype}",
                            "x は浮動小数点の配列でなければならない（確認には float64）。"
                            "得られた dtype は {dtype}", dtype=x.dtype))
    grad = np.zeros(x.shape, dtype=x.dtype)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = f(x)
            x[index] = original - h
            f_minus = f(x)
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def _relative_errors(a, b):
    """|a - b| / max(1e-8, |a| + |b|), elementwise; the floor keeps 0 vs 0 at 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def rel_error(a, b):
    """Largest elementwise relative error between a and b, as a float."""
    return float(np.max(_relative_errors(a, b)))


@dataclass
class GradCheck:
    """Result of ``gradient_check``: the worst entry and where it is."""

    max_rel_error: float
    worst_index: tuple
    numeric: float
    analytic: float

    def __str__(self):
        return (f"max relative error {self.max_rel_error:.3e} at index {self.worst_index}: "
                f"numeric {self.numeric:.10g}, analytic {self.analytic:.10g}")


def gradient_check(f, x, analytic, h=1e-5):
    """Compare an analytic gradient of f at x (same shape as x) with ``numerical_gradient``.

    Returns a ``GradCheck``; never prints, so a test can assert on ``max_rel_error``.
    """
    numeric = numerical_gradient(f, x, h)
    errors = _relative_errors(numeric, analytic)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(errors), errors.shape))
    return GradCheck(float(errors[worst]), worst, float(numeric[worst]),
                     float(np.asarray(analytic)[worst]))



def layer_gradient_check(layer, x, dout, *forward_args, params=()):
    """{"dx": GradCheck, "dW": ...}: a layer's backward against central differences.

    The probe is L = sum(layer.forward(x, *forward_args) * dout), whose gradient is what
    ``backward(dout)`` returns (dx) and stores (``dW``, ``db``, ... for the attribute names in
    params). For a loss layer, forward gives a number and dout = 1.0. Use float64; x and the
    parameters are perturbed in place and restored.
    """
    layer.forward(x, *forward_args)
    analytic = {"dx": np.array(layer.backward(dout))}
    analytic.update({f"d{name}": np.array(getattr(layer, f"d{name}")) for name in params})
    arrays = {"dx": x, **{f"d{name}": getattr(layer, name) for name in params}}

    def probe(_):
        return float(np.sum(layer.forward(x, *forward_args) * dout))
    return {key: gradient_check(probe, arrays[key], grad) for key, grad in analytic.items()}


def random_array(seed, shape, layout="contiguous", scale=1.0):
    """float64 normal array of `shape` from seed; the layouts "transposed" and "strided" give the
    same values in a non-C-contiguous view (code must not assume a memory layout)."""
    values = scale * np.random.default_rng(seed).standard_normal(shape)
    if layout == "transposed":
        return np.ascontiguousarray(values.T).T
    if layout == "strided":
        holder = np.zeros(shape[:-1] + (2 * shape[-1],))
        holder[..., ::2] = values
        return holder[..., ::2]
    return values


def torch_leaf(array):
    """A float64 torch tensor holding a copy of array, with requires_grad (an autograd leaf)."""
    import torch
    return torch.tensor(np.ascontiguousarray(array), dtype=torch.float64, requires_grad=True)


def torch_gradients(torch_fn, inputs, dout):
    """The torch oracle: torch_fn(*inputs) and the gradients of <output, dout> with respect to
    every input, all as float64 NumPy arrays: (out, [d input for each input])."""
    import torch
    leaves = [torch_leaf(a) for a in inputs]
    out = torch_fn(*leaves)
    out.backward(torch.as_tensor(np.asarray(dout), dtype=torch.float64))
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def torch_error(layer, torch_fn, x, dout, params=()):
    """Worst ``rel_error`` of a layer's out, dx and parameter gradients (attribute names in
    params, e.g. ("W", "b")) against torch autograd; torch_fn(x, *params) is the oracle."""
    out = layer.forward(x)
    ours = [out, layer.backward(dout), *[getattr(layer, f"d{name}") for name in params]]
    expected, grads = torch_gradients(torch_fn, (x, *[getattr(layer, p) for p in params]), dout)
    return max(rel_error(a, b) for a, b in zip(ours, [expected, *grads]))


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
            raise AssertionError(say("{name} uses {uses}: write it with NumPy only, without "
                                     "{modules}",
                                     "{name} が {uses} を使っている。{modules} を使わず NumPy "
                                     "だけで書くこと", name=obj.__qualname__,
                                     uses=", ".join(uses), modules=_listed(modules)))


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
        raise AssertionError(say("{what} imports {name}: write it with NumPy only, without "
                                 "{modules}",
                                 "{what} が {name} を import している。{modules} を使わず NumPy "
                                 "だけで書くこと", what=what, name=err.name,
                                 modules=_listed(modules))) from None
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
        return say("is a {kind}, not a function or class written in the notebook",
                   "は {kind} であり、ノートブックで書いた関数やクラスではない",
                   kind=_name(type(obj)))
    for klass in obj.__mro__[:-1] if isinstance(obj, type) else [obj]:
        module = klass.__module__ or ""
        if _top_module(module) == REFERENCE_PACKAGE and (
                klass is obj or not _in_modules(module, allowed)):
            where = f"{module}.{klass.__qualname__}"
            return (say("is {where}", "は {where} そのものである", where=where) if klass is obj
                    else say("inherits from {where}", "は {where} を継承している", where=where))
    for function in _functions(obj):
        copied = function.__code__.co_filename.startswith(_REFERENCE_DIR)
        if copied and not _in_modules(function.__module__ or "", allowed):
            return say("runs the code of {where}", "は {where} のコードを実行している",
                       where=f"{function.__module__}.{function.__qualname__}")
    uses = _uses(obj, (REFERENCE_PACKAGE,), allowed)
    return say("uses {uses}", "は {uses} を使っている", uses=", ".join(uses)) if uses else None


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
            extra = say("; of labutils only {allowed} may be used",
                        "。labutils のうち使ってよいのは {allowed} だけである",
                        allowed=_listed(list(allowed))) if allowed else ""
            raise AssertionError(say("{name} {problem}: write {what} yourself, without "
                                     "labutils' reference code{extra}",
                                     "{name} {problem}。labutils の参照実装を使わずに {what} を"
                                     "自分で書くこと{extra}", name=name, problem=problem,
                                     what=what or say("it", "これ"), extra=extra))


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
        raise AssertionError(_none_message(what))
    expected = expected_types if isinstance(expected_types, tuple) else (expected_types,)
    names = _listed([_name(klass) for klass in expected])
    klass, hint = type(actual), say("; {hint}", "。{hint}", hint=hint) if hint else ""
    fields = dict(what=what, kind=_name(klass), names=names, hint=hint)
    if not isinstance(actual, expected):
        raise AssertionError(say("{what} is of type {kind}, expected {names}{hint}",
                                 "{what} の型が {kind} になっている。正しくは {names}{hint}",
                                 **fields))
    if not all(_trusted(base) for base in klass.__mro__):
        raise AssertionError(say("{what} is of type {kind}, a class of your own: return a "
                                 "plain {names}{hint}",
                                 "{what} の型が自作のクラス {kind} になっている。ただの {names} を"
                                 "返すこと{hint}", **fields))
    if isinstance(actual, np.ndarray) and actual.dtype.kind not in "biufc":
        raise AssertionError(say("{what} is an array of dtype {dtype}, expected numbers{hint}",
                                 "{what} は dtype {dtype} の配列である。数値の配列でなければ"
                                 "ならない{hint}", dtype=actual.dtype, **fields))


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
            raise AssertionError(say("no trained model found: {path} is missing. Run the "
                                     "training cell, which saves it, and submit the {folder}/ "
                                     "folder too",
                                     "学習済みモデルが見つからない: {path} がない。これを保存する"
                                     "学習のセルを実行し、{folder}/ フォルダも一緒に提出すること",
                                     path=path, folder=folder))
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as err:  # any unreadable file is the same mistake for the student
        raise AssertionError(say("{path} is not a saved state_dict ({error}); save it with "
                                 "torch.save(model.state_dict(), path)",
                                 "{path} は保存された state_dict ではない（{error}）。"
                                 "torch.save(model.state_dict(), path) で保存すること",
                                 path=state_path, error=type(err).__name__)) from None
    if not isinstance(state, dict):
        raise AssertionError(say("{path} holds a {kind}, not a state_dict",
                                 "{path} の中身は {kind} であり、state_dict ではない",
                                 path=state_path, kind=type(state).__name__))
    model = build()
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[:3]
        raise AssertionError(say("the weights in {path} do not fit {build}(): ",
                                 "{path} の重みが {build}() に合わない: ", path=state_path,
                                 build=build.__name__)
                             + " ".join(line.strip() for line in first)) from None
    try:
        metrics = json.loads(metrics_path.read_text())
    except ValueError:
        raise AssertionError(say("{path} is not valid JSON", "{path} は正しい JSON ではない",
                                 path=metrics_path)) from None
    accuracy = metrics.get("test_accuracy") if isinstance(metrics, dict) else None
    if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool):
        raise AssertionError(say("{path} needs a number under \"test_accuracy\", got {got!r}",
                                 "{path} の \"test_accuracy\" には数値が必要である。得られた値は "
                                 "{got!r}", path=metrics_path, got=accuracy))
    return model.eval(), metrics


def assert_claim_matches(claimed: float, measured: float, what: str,
                         tolerance: float = 0.005) -> None:
    """Fail unless the accuracy a student's notebook reported is the one the grader measures."""
    if not 0.0 <= claimed <= 1.0:
        raise AssertionError(say("{what}: the notebook saved {claimed:g}, which is not a "
                                 "fraction between 0 and 1 (the grader measures {measured:.4f}). "
                                 "Does evaluate() divide by the number of images?",
                                 "{what}: ノートブックが保存した値 {claimed:g} は 0 から 1 の間の"
                                 "割合ではない（採点側の測定値は {measured:.4f}）。evaluate() は"
                                 "画像の枚数で割っているか？", what=what, claimed=claimed,
                                 measured=measured))
    if abs(claimed - measured) > tolerance:
        raise AssertionError(say("{what}: the notebook saved {claimed:.2%}, but the saved model "
                                 "scores {measured:.2%} when the grader measures it. Is "
                                 "evaluate() right, and were the weights saved after training?",
                                 "{what}: ノートブックが保存した値は {claimed:.2%} だが、保存された"
                                 "モデルを採点側で測ると {measured:.2%} である。"
                                 "evaluate() は正しいか、"
                                 "重みは学習の後に保存したか？", what=what, claimed=claimed,
                                 measured=measured))


def tensors_digest(tensors) -> str:
    """SHA-256 of the shapes and bytes of torch tensors, in order: equal digests mean
    bit-identical values (e.g. a frozen base that training left alone)."""
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def weights_digest(module) -> str:
    """``tensors_digest`` of every parameter and buffer of ``module``, their names included."""
    state = module.state_dict()
    return hashlib.sha256((" ".join(state) + tensors_digest(state.values())).encode()).hexdigest()
