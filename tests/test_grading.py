"""labutils.grading: the assertion helpers say what is wrong, and pass what is right."""

import numpy as np
import pytest

from conftest import run_as_cell

from labutils import grading


def test_assert_close_passes_within_tolerance():
    grading.assert_close(np.ones(3) + 1e-9, np.ones(3), "x")


def test_assert_close_names_the_worst_entry():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    with pytest.raises(AssertionError, match=r"dW is wrong at index \(1, 2\): got 0.5, expected 0"):
        grading.assert_close(actual, expected, "dW")


def test_assert_close_explains_shapes_and_none():
    with pytest.raises(AssertionError, match="looks transposed"):
        grading.assert_close(np.zeros((3, 2)), np.zeros((2, 3)), "dW")
    with pytest.raises(AssertionError, match="forget to return"):
        grading.assert_close(None, np.zeros(2), "out")
    with pytest.raises(AssertionError, match="nan"):
        grading.assert_close(np.array([np.nan]), np.zeros(1), "out")


# ---------------------------------------------------------------- trained-model artifacts

def small_model():
    import torch
    return torch.nn.Sequential(torch.nn.Linear(3, 2))


def test_artifacts_round_trip(tmp_path):
    import torch
    torch.manual_seed(0)
    model = small_model()
    grading.save_artifacts(model, {"test_accuracy": 0.9, "epochs": 1}, tmp_path)
    loaded, metrics = grading.load_artifacts(small_model, tmp_path)
    assert metrics == {"test_accuracy": 0.9, "epochs": 1}
    assert not loaded.training
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("damage, message", [
    ("no state", "no trained model found"),
    ("no metrics", "no trained model found"),
    ("not a state_dict", "is not a saved state_dict"),
    ("a list", "not a state_dict"),
    ("other layers", "do not fit small_model"),
    ("bad json", "is not valid JSON"),
    ("no accuracy", "needs a number under"),
])
def test_broken_artifacts_fail_with_one_sentence(tmp_path, damage, message):
    import torch
    grading.save_artifacts(small_model(), {"test_accuracy": 0.9}, tmp_path)
    state, metrics = tmp_path / grading.STATE_FILE, tmp_path / grading.METRICS_FILE
    if damage == "no state":
        state.unlink()
    elif damage == "no metrics":
        metrics.unlink()
    elif damage == "not a state_dict":
        state.write_bytes(b"not a torch file")
    elif damage == "a list":
        torch.save([torch.zeros(2)], state)
    elif damage == "other layers":
        torch.save(torch.nn.Linear(4, 2).state_dict(), state)
    elif damage == "bad json":
        metrics.write_text("{accuracy: high}")
    elif damage == "no accuracy":
        metrics.write_text('{"test_accuracy": "99%"}')
    with pytest.raises(AssertionError, match=message):
        grading.load_artifacts(small_model, tmp_path)


def test_claimed_accuracy_must_be_the_measured_fraction():
    grading.assert_claim_matches(0.9870, 0.9880, "test accuracy")
    with pytest.raises(AssertionError, match="saved 95.00%, but the saved model scores 98.80%"):
        grading.assert_claim_matches(0.95, 0.988, "test accuracy")
    with pytest.raises(AssertionError, match="not a fraction between 0 and 1"):
        grading.assert_claim_matches(9880.0, 0.988, "test accuracy")


def test_weights_digest_sees_any_change_and_only_a_change():
    import torch
    torch.manual_seed(0)
    model = small_model()
    twin = small_model()
    twin.load_state_dict(model.state_dict())
    assert grading.weights_digest(model) == grading.weights_digest(twin)
    with torch.no_grad():
        twin[0].weight[0, 0] += 1e-6
    assert grading.weights_digest(model) != grading.weights_digest(twin)


def test_tensors_digest_sees_values_and_shapes():
    import torch
    a, b = torch.arange(6.0), torch.arange(6.0)
    assert grading.tensors_digest([a]) == grading.tensors_digest([b])
    assert grading.tensors_digest([a]) != grading.tensors_digest([a.reshape(2, 3)])
    b[5] += 1e-6
    assert grading.tensors_digest([a]) != grading.tensors_digest([b])


# ---------------------------------------------------------------- gradient checks and oracles


class ScaledSquare:
    """forward x -> scale * x**2; backward multiplies by `slope` * x (2 is right)."""

    def __init__(self, scale, slope=2.0):
        self.s, self.slope = np.array([scale]), slope

    def forward(self, x):
        self.x = x
        return self.s * x ** 2

    def backward(self, dout):
        self.ds = np.array([np.sum(dout * self.x ** 2)])
        return self.slope * self.s * self.x * dout


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_random_array_layouts_hold_the_same_values(layout):
    values = grading.random_array(3, (4, 5), layout, scale=2.0)
    np.testing.assert_array_equal(values, 2.0 * np.random.default_rng(3).standard_normal((4, 5)))
    assert values.flags.c_contiguous == (layout == "contiguous")


def test_layer_gradient_check_passes_a_right_layer_and_finds_a_wrong_one():
    x, dout = grading.random_array(0, (3, 4)), grading.random_array(1, (3, 4))
    right = grading.layer_gradient_check(ScaledSquare(1.5), x, dout, params=("s",))
    assert set(right) == {"dx", "ds"}
    assert max(check.max_rel_error for check in right.values()) < 1e-8
    wrong = grading.layer_gradient_check(ScaledSquare(1.5, slope=2.1), x, dout)
    assert wrong["dx"].max_rel_error > 1e-2


def test_torch_error_compares_out_and_every_gradient():
    x, dout = grading.random_array(0, (3, 4)), grading.random_array(1, (3, 4))
    oracle = lambda x, s: s * x ** 2  # noqa: E731
    assert grading.torch_error(ScaledSquare(1.5), oracle, x, dout, params=("s",)) < 1e-14
    assert grading.torch_error(ScaledSquare(1.5, slope=2.1), oracle, x, dout, ("s",)) > 1e-2
    out, (dx,) = grading.torch_gradients(lambda x: x ** 3, (x,), dout)
    np.testing.assert_allclose(out, x ** 3)
    np.testing.assert_allclose(dx, 3 * x ** 2 * dout)


def test_artifacts_under_another_file_name(tmp_path):
    grading.save_artifacts(small_model(), {"test_accuracy": 0.5}, tmp_path, state_file="a.pt")
    assert (tmp_path / "a.pt").is_file()
    _, metrics = grading.load_artifacts(small_model, tmp_path, state_file="a.pt")
    assert metrics["test_accuracy"] == 0.5
    with pytest.raises(AssertionError, match="do not fit small_model"):
        import torch
        torch.save(torch.nn.Linear(5, 2).state_dict(), tmp_path / "a.pt")
        grading.load_artifacts(small_model, tmp_path, state_file="a.pt")


# ---------------------------------------------------------------- the student's own code

SUBMISSION = '''
import functools
import types

import numpy as np

import labutils.perceptron
from labutils import backprop as bp
from labutils import data, train
from labutils import perceptron as P
from labutils.perceptron import AND as imported_and


def own_gate(x1, x2):
    return int(x1 + x2 - 1.5 > 0)


def own_xor(x1, x2):
    return own_gate(helper(x1, x2), x1)


def helper(x1, x2):
    return int(np.logical_xor(x1, x2))


class OwnLayer:
    def forward(self, x):
        return np.maximum(x, 0)


def wrapper(x1, x2):
    return int(P.AND(x1, x2))


def dotted_wrapper(x1, x2):
    return labutils.perceptron.AND(x1, x2)


def imports_inside(x1, x2):
    from labutils.perceptron import AND
    return AND(x1, x2)


def calls_a_wrapper(x1, x2):
    return wrapper(x1, x2)


class Inherits(bp.Affine):
    pass


class Delegates:
    def __init__(self):
        self.layer = bp.ReLU()

    def backward(self, dout):
        return self.layer.backward(dout)


def batches(x, y):
    return data.TensorBatches(x, y, batch_size=10)


def batches_inside(x, y):
    from labutils import data
    return data.TensorBatches(x, y, batch_size=10)


def trains(model, x, y):
    return train.evaluate(model, data.TensorBatches(x, y, batch_size=10))


partial_gate = functools.partial(P.AND)
copied = types.FunctionType(own_gate.__code__, globals(), "copied")
copied_from_labutils = types.FunctionType(P.step.__code__, globals(), "step")


class Liar:
    """Claims to equal everything, and to be no distance from anything."""

    def __eq__(self, other):
        return True

    def __int__(self):
        return 0

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __abs__(self):
        return 0.0

    def __le__(self, other):
        return True

    __hash__ = object.__hash__


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)


class Disguised(Liar):
    """Says it is an int when isinstance asks."""

    @property
    def __class__(self):
        return int


LookAlike = type("int64", (int,), {"__module__": "numpy", "__eq__": lambda s, o: True,
                                   "__hash__": int.__hash__})
'''


@pytest.fixture(scope="module")
def own():
    return run_as_cell(SUBMISSION)


def test_own_code_passes(own):
    grading.assert_own_code(own["own_gate"], own["own_xor"], own["OwnLayer"], own["copied"])
    grading.assert_own_code(own["batches"], own["batches_inside"], allowed=("labutils.data",))


@pytest.mark.parametrize("name, problem", [
    ("imported_and", r"AND is labutils\.perceptron\.AND: write the gates yourself"),
    ("wrapper", r"wrapper uses P \(labutils\.perceptron\) in wrapper: write the gates"),
    ("dotted_wrapper", r"uses labutils in dotted_wrapper"),
    ("imports_inside", r"uses labutils\.perceptron\.AND in imports_inside"),
    ("calls_a_wrapper", r"uses P \(labutils\.perceptron\) in wrapper"),  # through its helper
    ("Inherits", r"Inherits inherits from labutils\.backprop\.Affine"),
    ("Delegates", r"uses bp \(labutils\.backprop\) in Delegates\.__init__"),
    ("partial_gate", r"partial is a functools\.partial, not a function or class written"),
    ("copied_from_labutils", r"step runs the code of __main__\.step"),
    ("batches", r"uses data \(labutils\.data\) in batches"),  # allowed only when named
])
def test_labutils_code_is_refused(own, name, problem):
    with pytest.raises(AssertionError, match=problem):
        grading.assert_own_code(own["own_gate"], own[name], what="the gates")


def test_allowed_modules_open_nothing_else(own):
    with pytest.raises(AssertionError, match=r"uses train \(labutils\.train\) in trains: write "
                                             r"it yourself.*only labutils\.data may be used"):
        grading.assert_own_code(own["trains"], allowed=("labutils.data",))


def test_assert_type_passes_library_types():
    import torch
    grading.assert_type(1, int, "AND(1, 1)")
    grading.assert_type(True, int, "AND(1, 1)")  # bool is an int
    grading.assert_type(np.int64(1), (int, np.integer), "AND(1, 1)")
    grading.assert_type(np.float32(0.5), (float, np.floating), "loss")
    grading.assert_type(np.zeros(3), np.ndarray, "dx")
    grading.assert_type(torch.zeros(3), torch.Tensor, "out")
    grading.assert_type(torch.nn.Parameter(torch.zeros(3)), torch.Tensor, "weight")


@pytest.mark.parametrize("make, message", [
    (lambda own: None, r"AND\(0, 1\) is None: did the function forget to return"),
    (lambda own: 1.0, r"AND\(0, 1\) is of type float, expected int or numpy\.integer"),
    (lambda own: np.bool_(True), r"is of type numpy\.bool, expected int or numpy\.integer"),
    (lambda own: own["Liar"](), r"AND\(0, 1\) is of type Liar, expected int or numpy\.integer"),
    (lambda own: own["LyingInt"](0),
     r"AND\(0, 1\) is of type LyingInt, a class of your own: return a plain int"),
    (lambda own: own["Disguised"](), r"is of type Disguised, a class of your own"),
    (lambda own: own["LookAlike"](0), r"is of type numpy\.int64, a class of your own"),
])
def test_assert_type_refuses_other_and_lying_types(own, make, message):
    value = make(own)
    assert value is None or value == 1 or value == 1.0 or value.dtype == bool
    with pytest.raises(AssertionError, match=message):
        grading.assert_type(value, (int, np.integer), "AND(0, 1)")


def test_assert_type_refuses_an_array_of_ones_own(own):
    lying = np.zeros(3).view(own["LyingArray"])
    assert np.all(lying == np.ones(3))
    with pytest.raises(AssertionError, match="dx is of type LyingArray, a class of your own"):
        grading.assert_type(lying, np.ndarray, "dx")
    with pytest.raises(AssertionError, match=r"dx is of type list, expected numpy\.ndarray"):
        grading.assert_type([0.0, 1.0], np.ndarray, "dx")
    liars = np.array([own["Liar"](), own["Liar"]()], dtype=object)
    assert np.allclose(liars, [0.5, 2.0])  # numpy compares such objects by their own rules
    with pytest.raises(AssertionError, match="dx is an array of dtype object, expected numbers"):
        grading.assert_type(liars, np.ndarray, "dx")
    grading.assert_type(np.zeros(3) > 0, np.ndarray, "mask")  # booleans are numbers here


def test_assert_type_ends_with_the_hint():
    import torch
    with pytest.raises(AssertionError, match=r"^the loss is of type torch\.Tensor, expected float; "
                                             r"return loss\.item\(\)$"):
        grading.assert_type(torch.tensor(1.0), float, "the loss", hint="return loss.item()")


def test_allowed_module_classes_may_be_extended():
    namespace = {"__name__": "__main__"}
    exec(compile("from labutils import data\n\n\n"
                 "class Batches(data.TensorBatches):\n"
                 "    pass\n", "<notebook cell>", "exec"), namespace)
    grading.assert_own_code(namespace["Batches"], allowed=("labutils.data",))
    with pytest.raises(AssertionError, match=r"inherits from labutils\.data\.TensorBatches"):
        grading.assert_own_code(namespace["Batches"])
