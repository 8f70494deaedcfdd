"""labutils.data: settings, checksums, one-line errors, staging logic, datasets and splits."""

import shutil

import numpy as np
import pytest
import torch

from labutils import data


@pytest.fixture
def staged_copy(tmp_path):
    """A data root holding links to the real staged MNIST files (staged by `make setup`)."""
    raw = data.raw_dir("MNIST", tmp_path)
    raw.mkdir(parents=True)
    for name in data.CHECKSUMS["MNIST"]:
        (raw / name).symlink_to(data.raw_dir("MNIST") / name)
    return tmp_path


def test_fast_mode_and_by_mode(monkeypatch):
    monkeypatch.delenv(data.FAST_ENV, raising=False)
    assert not data.fast_mode() and data.by_mode(full=10, fast=1) == 10
    monkeypatch.setenv(data.FAST_ENV, "1")
    assert data.fast_mode() and data.by_mode(full=10, fast=1) == 1
    monkeypatch.setenv(data.FAST_ENV, "0")
    assert not data.fast_mode()


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.data_root() == tmp_path
    monkeypatch.delenv(data.DATA_ENV)
    assert data.data_root().name == "data"


def test_missing_files_give_one_line_naming_the_fix(tmp_path):
    with pytest.raises(data.DataMissingError) as caught:
        data.verify("MNIST", tmp_path)
    message = str(caught.value)
    assert "\n" not in message and "make setup" in message and "missing" in message
    assert "(and 3 more)" in message
    assert caught.value._render_traceback_() == [f"DataMissingError: {message}"]


def test_corrupt_file_is_detected(staged_copy):
    victim = data.raw_dir("MNIST", staged_copy) / "t10k-labels-idx1-ubyte"
    victim.unlink()
    victim.write_bytes(b"not the labels")
    assert data.problems("MNIST", staged_copy) == [f"{victim} is corrupt (checksum mismatch)"]
    with pytest.raises(data.DataMissingError, match="corrupt"):
        data.verify("MNIST", staged_copy)


def test_unknown_dataset_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        data.verify("CIFAR10", tmp_path)


def test_stage_keeps_intact_files(staged_copy):
    assert data.stage("MNIST", staged_copy) == "already staged"


def test_stage_replaces_a_corrupt_file_from_the_offline_source(staged_copy, monkeypatch):
    raw = data.raw_dir("MNIST", staged_copy)
    (raw / "train-labels-idx1-ubyte").unlink()
    (raw / "train-labels-idx1-ubyte").write_bytes(b"garbage")
    calls = []

    def fake_offline(root, work):  # copies the real files, as npm's package would provide them
        calls.append(root)
        for name in data.CHECKSUMS["MNIST"]:
            (raw / name).unlink()
            shutil.copyfile(data.raw_dir("MNIST") / name, raw / name)

    monkeypatch.setitem(data.OFFLINE_SOURCES, "MNIST", fake_offline)
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert data.stage("MNIST", staged_copy) == "offline package"
    assert calls == [staged_copy] and data.problems("MNIST", staged_copy) == []


def test_stage_fails_loudly_when_the_offline_source_gives_bad_files(tmp_path, monkeypatch):
    monkeypatch.setitem(data.OFFLINE_SOURCES, "MNIST", lambda root, work: None)
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    with pytest.raises(data.DataMissingError):
        data.stage("MNIST", tmp_path)


def test_offline_probe_is_bounded(monkeypatch):
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    assert data._online("https://example.invalid/") is False


def test_cli_verify_prints_one_line_and_fails(tmp_path, capsys):
    assert data.main(["verify", "--only", "MNIST", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "make setup" in err


def test_staged_datasets_open_with_torchvision():
    train, test = data.mnist(train=True), data.mnist(train=False)
    assert (len(train), len(test)) == (60000, 10000)
    image, label = train[0]
    assert tuple(image.shape) == (1, 28, 28) and 0 <= label <= 9
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    fashion = data.fashion_mnist(train=False)
    assert len(fashion) == 10000 and len(data.FASHION_CLASSES) == 10


def test_subset_is_seeded_and_sized():
    items = list(range(100))
    a, b = data.subset(items, 10, seed=1), data.subset(items, 10, seed=1)
    c = data.subset(items, 10, seed=2)
    assert list(a.indices) == list(b.indices) and list(a.indices) != list(c.indices)
    assert len(a) == 10 and len(set(a.indices)) == 10
    assert len(data.subset(items, 1000)) == 100


def test_train_val_split_is_disjoint_and_complete():
    train, val = data.train_val_split(list(range(50)), val_fraction=0.2, seed=3)
    assert len(val) == 10 and len(train) == 40
    assert sorted(list(train.indices) + list(val.indices)) == list(range(50))
    with pytest.raises(ValueError):
        data.train_val_split(list(range(5)), val_fraction=1.5)


def test_digits_are_scaled_and_split():
    X_train, y_train, X_test, y_test = data.digits(seed=0)
    assert X_train.shape[1] == 64 and len(X_train) + len(X_test) == 1797
    assert X_train.min() >= 0 and X_train.max() <= 1
    assert set(np.unique(y_train)) == set(range(10))
    again = data.digits(seed=0)
    np.testing.assert_array_equal(again[0], X_train)


def test_a_notebook_shows_missing_data_as_one_line(tmp_path):
    """In a real kernel the error is one line naming the fix, not a traceback wall."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    cell = nbformat.v4.new_code_cell(
        f"import os\nos.environ['{data.DATA_ENV}'] = {str(tmp_path)!r}\n"
        "from labutils import data\ndata.mnist()")
    notebook = nbformat.v4.new_notebook(cells=[cell])
    with pytest.raises(CellExecutionError):
        NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    (error,) = [o for o in notebook.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "DataMissingError"
    assert len(error.traceback) == 1 and "make setup" in error.traceback[0]


def test_mnist_arrays_match_torchvision():
    images, labels = data.mnist_arrays(train=False)
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (10000,) and labels.dtype == np.int64
    image, label = data.mnist(train=False)[3]
    np.testing.assert_allclose(images[3], image.numpy(), atol=1e-7)
    assert labels[3] == label


def test_mnist_tensors_are_normalised_as_in_the_seed():
    images, labels = data.mnist_tensors(train=False)
    arrays, array_labels = data.mnist_arrays(train=False)
    assert images.shape == (10000, 1, 28, 28) and images.dtype == torch.float32
    torch.testing.assert_close(images, torch.from_numpy(arrays) - 0.5)  # Normalize((0.5,), (1,))
    assert torch.equal(labels, torch.from_numpy(array_labels))
    assert images.min() == -0.5 and images.max() == 0.5


@pytest.mark.parametrize("n, batch_size", [(10, 3), (9, 3), (1, 5)])
def test_tensor_batches_cover_every_item_once_per_pass(n, batch_size):
    x, y = torch.arange(n) * 10, torch.arange(n)
    batches = data.TensorBatches(x, y, batch_size=batch_size, shuffle=True, seed=1)
    assert len(batches) == -(-n // batch_size)
    passes = [list(batches), list(batches)]
    for batches_of_pass in passes:
        assert len(batches_of_pass) == len(batches)
        assert all(torch.equal(xb, yb * 10) for xb, yb in batches_of_pass)  # pairs kept
        seen = torch.cat([yb for _, yb in batches_of_pass])
        assert sorted(seen.tolist()) == list(range(n))
    if n > 3:
        first, second = (torch.cat([yb for _, yb in p]) for p in passes)
        assert not torch.equal(first, second)  # a new order each pass


def test_tensor_batches_are_seeded_and_keep_order_without_shuffle():
    x = torch.arange(20)
    order = lambda seed: torch.cat([b for (b,) in data.TensorBatches(x, batch_size=6,  # noqa: E731
                                                                   shuffle=True, seed=seed)])
    assert torch.equal(order(3), order(3)) and not torch.equal(order(3), order(4))
    plain = torch.cat([b for (b,) in data.TensorBatches(x, batch_size=6)])
    assert torch.equal(plain, x)


def test_tensor_batches_reject_bad_input():
    with pytest.raises(ValueError, match="one common length"):
        data.TensorBatches(torch.zeros(3), torch.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        data.TensorBatches(torch.zeros(3), batch_size=0)
