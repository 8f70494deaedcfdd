"""labutils.train: seeding, the fit/evaluate loop, history, early stop, predictions."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from labutils import train


def blobs(n=200, seed=0):
    """Two separable Gaussian blobs in 2-D."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    X = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None] * 2.0 - 1.0) * 2.0
    return TensorDataset(X, y)


def run_once(seed, num_epochs=3):
    train.set_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    loader = DataLoader(blobs(), batch_size=32, shuffle=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = train.fit(model, loader, DataLoader(blobs(seed=1), batch_size=64),
                        optimizer=opt, num_epochs=num_epochs, progress=False)
    return model, history


def test_fit_learns_and_records_every_epoch():
    _, history = run_once(0)
    assert history.num_epochs == 3 and len(history.val_acc) == 3
    assert history.val_acc[-1] > 0.95
    assert history.train_loss[-1] < history.train_loss[0]


def test_set_seed_makes_training_reproducible():
    _, first = run_once(7)
    _, second = run_once(7)
    _, other = run_once(8)
    assert first.train_loss == second.train_loss
    assert first.train_loss != other.train_loss


def test_evaluate_counts_correct_predictions():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))  # predicts the index of the larger input
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1, 1])
    loss, acc = train.evaluate(model, DataLoader(TensorDataset(X, y), batch_size=3))
    assert acc == pytest.approx(0.75)
    expected = nn.functional.cross_entropy(X, y).item()
    assert loss == pytest.approx(expected, rel=1e-6)


def test_evaluate_restores_training_mode():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    train.evaluate(model, DataLoader(blobs(8), batch_size=4))
    assert model.training


def test_on_epoch_end_can_stop_early():
    train.set_seed(0)
    model = nn.Linear(2, 2)
    history = train.fit(model, DataLoader(blobs(), batch_size=50),
                        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=10,
                        progress=False, on_epoch_end=lambda epoch, h: epoch == 1)
    assert history.num_epochs == 2 and history.val_loss == []
    assert history.best_epoch() == int(np.argmin(history.train_loss))


def test_predict_and_count_parameters():
    model, _ = run_once(0, num_epochs=1)
    y_true, y_pred = train.predict(model, DataLoader(blobs(40), batch_size=16))
    assert y_true.shape == y_pred.shape == (40,)
    assert train.count_parameters(model) == (2 * 8 + 8) + (8 * 2 + 2)
    for p in model[0].parameters():
        p.requires_grad_(False)
    assert train.count_parameters(model, trainable_only=True) == 8 * 2 + 2


def test_get_device():
    assert train.get_device("cpu").type == "cpu"
    assert train.get_device().type in {"cpu", "cuda", "mps"}


def test_get_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert train.get_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: True)
        assert train.get_device().type == "mps"
        monkeypatch.setattr(mps, "is_available", lambda: False)
    assert train.get_device().type == "cpu"


def _digits_net():
    from labutils import backprop as bp, data
    X_train, y_train, X_test, y_test = data.digits(seed=0)
    return bp, bp.MultiLayerNet(64, [32], 10, seed=0), X_train, y_train, X_test, y_test


def test_fit_numpy_learns_and_is_reproducible():
    bp, net, X, y, X_test, y_test = _digits_net()
    history = train.fit_numpy(net, bp.Adam(lr=1e-2), X, y, X_test, y_test, num_epochs=4,
                              batch_size=64, seed=1, progress=False)
    assert history.num_epochs == 4 and len(history.val_acc) == 4
    assert history.val_acc[-1] > 0.9 and history.train_loss[-1] < history.train_loss[0]
    _, again, *_ = _digits_net()
    repeat = train.fit_numpy(again, bp.Adam(lr=1e-2), X, y, X_test, y_test, num_epochs=4,
                             batch_size=64, seed=1, progress=False)
    assert repeat.train_loss == history.train_loss
    np.testing.assert_array_equal(again.params["W1"], net.params["W1"])


def test_fit_numpy_stops_early_and_skips_validation():
    bp, net, X, y, *_ = _digits_net()
    history = train.fit_numpy(net, bp.SGD(lr=0.1), X, y, num_epochs=5, progress=False,
                              on_epoch_end=lambda epoch, h: epoch == 1)
    assert history.num_epochs == 2 and history.val_loss == []


def test_evaluate_numpy_matches_the_whole_batch():
    _, net, _, _, X_test, y_test = _digits_net()
    loss, acc = train.evaluate_numpy(net, X_test, y_test, batch_size=7)
    assert loss == pytest.approx(float(net.loss(X_test, y_test)), rel=1e-9)
    assert acc == pytest.approx(float(net.accuracy(X_test, y_test)), rel=1e-12)


def test_fit_steps_the_scheduler_after_every_batch():
    train.set_seed(0)
    model = nn.Linear(2, 2)
    loader = DataLoader(blobs(), batch_size=50)  # 4 batches
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 / (1 + step))
    train.fit(model, loader, optimizer=opt, num_epochs=3, progress=False, scheduler=schedule)
    assert schedule.last_epoch == 12
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 13)
