"""labutils.grading: the assertion helpers say what is wrong, and pass what is right."""

import numpy as np
import pytest

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


def test_artifacts_under_another_file_name(tmp_path):
    grading.save_artifacts(small_model(), {"test_accuracy": 0.5}, tmp_path, state_file="a.pt")
    assert (tmp_path / "a.pt").is_file()
    _, metrics = grading.load_artifacts(small_model, tmp_path, state_file="a.pt")
    assert metrics["test_accuracy"] == 0.5
    with pytest.raises(AssertionError, match="do not fit small_model"):
        import torch
        torch.save(torch.nn.Linear(5, 2).state_dict(), tmp_path / "a.pt")
        grading.load_artifacts(small_model, tmp_path, state_file="a.pt")
