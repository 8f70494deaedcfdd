"""labutils.regularization against torch (autograd, nn.BatchNorm, optim.SGD), central
differences and the definitions.

Every expectation comes from a reference computed at test time or from the specification;
random inputs come from seeded generators or derandomized hypothesis, so every run is the same.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torchvision.transforms import v2

from labutils import backprop as bp
from labutils import grading
from labutils.grading import torch_leaf
from labutils import regularization as reg
from labutils import train
from labutils.data import TensorBatches

DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=15)
TIGHT = {"rtol": 1e-10, "atol": 1e-12}  # numpy vs torch, float64
seeds = st.integers(0, 2**32 - 1)


def normal(seed, shape, scale=1.0, shift=0.0):
    return shift + scale * np.random.default_rng(seed).standard_normal(shape)



# ---------------------------------------------------------------- Dropout


def test_dropout_at_evaluation_is_the_identity_both_ways():
    layer = reg.Dropout(0.5)
    x = normal(0, (4, 5))
    np.testing.assert_array_equal(layer.forward(x, train=False), x)
    dout = normal(1, (4, 5))
    np.testing.assert_array_equal(layer.backward(dout), dout)


@pytest.mark.parametrize("ratio", [0.2, 0.5, 0.8])
def test_dropout_keeps_a_fraction_one_minus_ratio_and_the_mean(ratio):
    x = normal(2, (1000, 1000), shift=3.0)
    out = reg.Dropout(ratio, seed=3).forward(x)
    kept = out != 0
    # 1e6 Bernoulli draws: the kept fraction's standard deviation is below 5e-4
    assert abs(kept.mean() - (1 - ratio)) < 5e-3
    # inverted dropout: kept entries are scaled up, so the mean survives in expectation
    np.testing.assert_allclose(out.mean(), x.mean(), rtol=1e-2)
    np.testing.assert_allclose(out[kept], x[kept] / (1 - ratio), rtol=1e-15)


@DETERMINISTIC
@given(seed=seeds, shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
       ratio=st.sampled_from([0.1, 0.5, 0.9]))
def test_dropout_backward_reuses_the_forward_mask(seed, shape, ratio):
    layer = reg.Dropout(ratio, seed=seed)
    x = normal(seed, tuple(shape), shift=10.0)  # no zero inputs: a zero output means dropped
    out = layer.forward(x)
    dout = normal(seed + 1, tuple(shape), shift=10.0)
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx == 0, out == 0)
    np.testing.assert_allclose(dx[out != 0], dout[out != 0] / (1 - ratio), rtol=1e-15)
    np.testing.assert_array_equal(layer.backward(dout), dx)  # backward draws nothing new


def test_dropout_gradient_matches_central_differences_with_a_fixed_mask():
    """Layers built with one seed draw one mask, so f is a fixed function of x."""
    x, weights = normal(4, (3, 7)), normal(5, (3, 7))
    layer = reg.Dropout(0.3, seed=9)
    layer.forward(x)
    analytic = layer.backward(weights)
    check = grading.gradient_check(lambda z: np.sum(reg.Dropout(0.3, seed=9).forward(z) * weights),
                              x, analytic)
    assert check.max_rel_error < 1e-8, str(check)
    assert (analytic == 0).any() and (analytic != 0).any()


def test_dropout_masks_are_seeded_new_at_every_step_and_leave_numpy_global_state_alone():
    x = np.ones((50, 40))
    state = np.random.get_state()[1].copy()
    a, b, c = reg.Dropout(0.5, seed=1), reg.Dropout(0.5, seed=1), reg.Dropout(0.5, seed=2)
    first = a.forward(x)
    np.testing.assert_array_equal(b.forward(x), first)
    assert not np.array_equal(c.forward(x), first)
    assert not np.array_equal(a.forward(x), first)  # a new mask at each training step
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_dropout_ratio_zero_is_the_identity_and_float32_stays_float32():
    x = normal(6, (8, 9)).astype(np.float32)
    np.testing.assert_array_equal(reg.Dropout(0.0).forward(x), x)
    layer = reg.Dropout(0.25)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(x).dtype == np.float32


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, "0.5", None, True])
def test_dropout_rejects_a_ratio_outside_0_1(ratio):
    with pytest.raises(ValueError, match="ratio"):
        reg.Dropout(ratio)

# ---------------------------------------------------------------- BatchNormalization


def torch_batch_norm(x, gamma, beta, dout, training, running_mean, running_var,
                     momentum, eps):
    """torch's output, dx, dgamma, dbeta; running_* (torch tensors) are updated in place.

    torch's momentum weighs the new statistic, ours the old one: torch's is 1 - ours."""
    xt, gt, bt = torch_leaf(x), torch_leaf(gamma), torch_leaf(beta)
    out = F.batch_norm(xt, running_mean, running_var, gt, bt, training=training,
                       momentum=1 - momentum, eps=eps)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


def check_batch_norm_step(layer, torch_running, x, dout, training):
    out = layer.forward(x, train=training)
    dx = layer.backward(dout)
    expected = torch_batch_norm(x, layer.gamma, layer.beta, dout, training, *torch_running,
                                layer.momentum, layer.eps)
    for ours, theirs in zip((out, dx, layer.dgamma, layer.dbeta), expected):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.running_mean, torch_running[0].numpy(), **TIGHT)
    np.testing.assert_allclose(layer.running_var, torch_running[1].numpy(), **TIGHT)


batch_norm_shapes = st.one_of(
    st.tuples(st.integers(2, 6), st.integers(1, 5)),  # (N, D)
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(2, 3)),
)


@DETERMINISTIC
@given(seed=seeds, shape=batch_norm_shapes, momentum=st.sampled_from([0.9, 0.5]))
def test_batch_norm_matches_torch_in_training_and_evaluation(seed, shape, momentum):
    """Three training batches (output, dx, dgamma, dbeta, running statistics), then eval."""
    channels = shape[1]
    layer = reg.BatchNormalization(normal(seed, channels, shift=1.0), normal(seed + 1, channels),
                                   momentum=momentum, eps=1e-3)
    np.testing.assert_array_equal(layer.running_mean, np.zeros(channels))
    np.testing.assert_array_equal(layer.running_var, np.ones(channels))
    torch_running = (torch.zeros(channels, dtype=torch.float64),
                     torch.ones(channels, dtype=torch.float64))
    for step in range(3):
        x = normal(seed + 10 + step, shape, scale=2.0, shift=step)
        dout = normal(seed + 20 + step, shape)
        check_batch_norm_step(layer, torch_running, x, dout, training=True)
    x, dout = normal(seed + 30, shape, scale=2.0), normal(seed + 31, shape)
    check_batch_norm_step(layer, torch_running, x, dout, training=False)


@pytest.mark.parametrize("torch_class, shape", [(nn.BatchNorm1d, (16, 3)),
                                                (nn.BatchNorm2d, (4, 3, 5, 5))])
def test_running_statistics_equal_those_of_torch_batch_norm_modules(torch_class, shape):
    """torch's momentum 0.1 is ours 0.9; both update the variance with the unbiased one."""
    ours = reg.BatchNormalization(np.ones(3), np.zeros(3), momentum=0.9)
    theirs = torch_class(3, momentum=0.1).double()
    for step in range(5):
        x = normal(step, shape, scale=1.0 + step, shift=step)
        ours.forward(x)
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), **TIGHT)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), **TIGHT)
    theirs.eval()
    x = normal(9, shape)
    np.testing.assert_allclose(ours.forward(x, train=False),
                               theirs(torch.tensor(x)).detach().numpy(), **TIGHT)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 2, 3)])
def test_batch_norm_gradients_match_central_differences(shape):
    channels = shape[1]
    gamma, beta = normal(1, channels, shift=1.0), normal(2, channels)
    x, weights = normal(3, shape, scale=2.0), normal(4, shape)
    layer = reg.BatchNormalization(gamma, beta)
    layer.forward(x)
    dx = layer.backward(weights)

    def f(_):  # gamma and beta are held by reference: perturbing them reaches the layer
        return np.sum(layer.forward(x) * weights)

    for param, analytic in ((x, dx), (gamma, layer.dgamma), (beta, layer.dbeta)):
        check = grading.gradient_check(f, param, analytic.copy())
        assert check.max_rel_error < 1e-6, str(check)


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2)])
def test_batch_norm_float32_stays_float32(shape):
    gamma, beta = np.ones(4, np.float32), np.zeros(4, np.float32)
    x, dout = normal(1, shape, scale=3.0, shift=1.0), normal(2, shape)
    reference = reg.BatchNormalization(gamma.astype(np.float64), beta.astype(np.float64))
    layer = reg.BatchNormalization(gamma, beta)
    for train_mode in (True, False):
        out = layer.forward(x.astype(np.float32), train=train_mode)
        dx = layer.backward(dout.astype(np.float32))
        assert out.dtype == dx.dtype == np.float32
        assert layer.dgamma.dtype == layer.dbeta.dtype == np.float32
        assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
        np.testing.assert_allclose(out, reference.forward(x, train=train_mode), atol=1e-5)
        np.testing.assert_allclose(dx, reference.backward(dout), atol=1e-5)


def test_batch_norm_inside_a_multilayer_net_and_the_bias_before_it_gets_no_gradient():
    """The layer fits backprop's layer lists; a bias just before batch norm is subtracted
    again with the mean, so its gradient is 0."""
    net = bp.MultiLayerNet(6, [5], 3, weight_init_std=0.5, seed=1)
    net.layers.insert(1, reg.BatchNormalization(normal(7, 5, shift=1.0), normal(8, 5)))
    x, t = normal(9, (8, 6)), np.arange(8) % 3
    grads, numeric = net.gradient(x, t), net.numerical_gradient(x, t)
    for key in ("W1", "W2", "b2"):
        assert grading.rel_error(grads[key], numeric[key]) < 1e-6, key
    np.testing.assert_allclose(grads["b1"], 0.0, atol=1e-12)
    np.testing.assert_allclose(numeric["b1"], 0.0, atol=1e-8)


@pytest.mark.parametrize("x, message", [(np.ones((4, 3)), "features"),
                                        (np.ones((4, 2, 3)), r"\(N, D\)"),
                                        (np.ones((1, 2)), "more than 1 value"),
                                        (np.ones((1, 2, 1, 1)), "more than 1 value")])
def test_batch_norm_rejects_wrong_inputs(x, message):
    layer = reg.BatchNormalization(np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=message):
        layer.forward(x)


def test_batch_norm_rejects_wrong_parameters():
    with pytest.raises(ValueError, match="gamma and beta"):
        reg.BatchNormalization(np.ones(3), np.zeros(2))
    with pytest.raises(ValueError, match="momentum"):
        reg.BatchNormalization(np.ones(3), np.zeros(3), momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        reg.BatchNormalization(np.ones(3), np.zeros(3), eps=0.0)

# ---------------------------------------------------------------- L2 / weight decay


def test_l2_penalty_and_gradient_match_torch_autograd():
    weights = [normal(1, (4, 3)), normal(2, (3, 2)), normal(3, (2, 3, 2, 2))]
    lam = 0.3
    leaves = [torch_leaf(W) for W in weights]
    penalty = 0.5 * lam * sum((W ** 2).sum() for W in leaves)
    penalty.backward()
    np.testing.assert_allclose(reg.l2_penalty(weights, lam), penalty.item(), **TIGHT)
    assert isinstance(reg.l2_penalty(weights, lam), float)
    for W, leaf in zip(weights, leaves):
        np.testing.assert_allclose(reg.l2_gradient(W, lam), leaf.grad.numpy(), **TIGHT)
    assert reg.l2_penalty(weights, 0.0) == 0.0


def test_torch_sgd_weight_decay_is_a_step_with_l2_gradient_added():
    W, x = normal(4, (5, 3)), normal(5, (7, 5))
    lr, lam = 0.1, 0.01
    leaf = torch_leaf(W)
    optimizer = torch.optim.SGD([leaf], lr=lr, weight_decay=lam)
    loss = (torch.tensor(x) @ leaf).tanh().sum()
    loss.backward()
    loss_grad = leaf.grad.numpy().copy()
    optimizer.step()

    params = {"W": W.copy()}
    bp.SGD(lr=lr).update(params, {"W": loss_grad + reg.l2_gradient(params["W"], lam)})
    np.testing.assert_allclose(params["W"], leaf.detach().numpy(), **TIGHT)
    assert not np.allclose(params["W"], W - lr * loss_grad)  # the decay did change the step

# ---------------------------------------------------------------- EarlyStopping


def tiny_model():
    """Parameters and buffers (BatchNorm's running statistics), all restored by restore()."""
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


def set_every_tensor(model, value):
    """Overwrite parameters and float buffers in place, as an optimizer step would."""
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.fill_(value)


def assert_every_tensor_equals(model, value):
    for key, tensor in model.state_dict().items():
        if tensor.is_floating_point():
            assert torch.all(tensor == value), key


def run_scripted(stopper, model, values, metric="val_loss"):
    """Feed the values one epoch at a time, the weights of epoch e all set to e + 1.

    Returns the number of epochs run."""
    history = train.History()
    for epoch, value in enumerate(values):
        set_every_tensor(model, float(epoch + 1))
        getattr(history, metric).append(value)
        if stopper(epoch, history):
            return epoch + 1
    return len(values)


def test_early_stopping_stops_after_patience_epochs_and_restores_the_best_weights():
    model = tiny_model()
    stopper = reg.EarlyStopping(model, patience=3)
    epochs = run_scripted(stopper, model, [1.0, 0.8, 0.85, 0.9, 0.95, 0.5, 0.4])
    assert epochs == 5  # 0.85, 0.9, 0.95: three epochs without improvement
    assert (stopper.best_epoch, stopper.best_value, stopper.stopped_epoch) == (1, 0.8, 4)
    assert_every_tensor_equals(model, 2.0)  # epoch 1's weights, restored automatically


def test_early_stopping_without_restore_best_keeps_the_last_weights_until_restore():
    model = tiny_model()
    stopper = reg.EarlyStopping(model, patience=2, restore_best=False)
    assert run_scripted(stopper, model, [1.0, 0.7, 0.9, 0.8, 0.1]) == 4
    assert_every_tensor_equals(model, 4.0)
    assert stopper.restore() is model
    assert_every_tensor_equals(model, 2.0)


def test_early_stopping_does_not_stop_while_the_loss_keeps_improving():
    model = tiny_model()
    stopper = reg.EarlyStopping(model, patience=1)
    assert run_scripted(stopper, model, [1.0, 0.9, 0.8, 0.7]) == 4
    assert stopper.stopped_epoch is None and stopper.best_epoch == 3
    set_every_tensor(model, -1.0)
    stopper.restore()
    assert_every_tensor_equals(model, 4.0)


def test_early_stopping_min_delta_ignores_small_improvements():
    values = [1.0, 0.95, 0.92, 0.91]
    plain = reg.EarlyStopping(tiny_model(), patience=2)
    assert run_scripted(plain, plain.model, values) == 4 and plain.stopped_epoch is None
    strict = reg.EarlyStopping(tiny_model(), patience=2, min_delta=0.1)
    assert run_scripted(strict, strict.model, values) == 3
    assert (strict.best_epoch, strict.best_value, strict.stopped_epoch) == (0, 1.0, 2)
    assert_every_tensor_equals(strict.model, 1.0)


def test_early_stopping_on_val_acc_keeps_the_highest_accuracy():
    values = [0.5, 0.7, 0.6, 0.65, 0.9]
    stopper = reg.EarlyStopping(tiny_model(), patience=2, monitor="val_acc")
    assert run_scripted(stopper, stopper.model, values, metric="val_acc") == 4
    assert (stopper.best_epoch, stopper.best_value) == (1, 0.7)
    assert_every_tensor_equals(stopper.model, 2.0)


def test_early_stopping_explains_an_empty_history_and_bad_arguments():
    history = train.History()
    history.record((0.5, 0.8))  # training metrics only: fit had no validation loader
    with pytest.raises(ValueError, match="val_loss is empty"):
        reg.EarlyStopping(tiny_model())(0, history)
    with pytest.raises(RuntimeError, match="restore"):
        reg.EarlyStopping(tiny_model()).restore()
    with pytest.raises(ValueError, match="monitor"):
        reg.EarlyStopping(tiny_model(), monitor="loss")
    with pytest.raises(ValueError, match="patience"):
        reg.EarlyStopping(tiny_model(), patience=0)


def test_early_stopping_ends_fit_and_restores_the_best_validation_loss():
    """Random labels: the network can only memorise, so the validation loss soon rises."""
    train.set_seed(0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 4, generator=g), torch.randint(0, 2, (64,), generator=g)
    x_val, y_val = torch.randn(64, 4, generator=g), torch.randint(0, 2, (64,), generator=g)
    model = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2))
    train_loader = TensorBatches(x, y, batch_size=16, shuffle=True)
    val_loader = TensorBatches(x_val, y_val, batch_size=64)
    stopper = reg.EarlyStopping(model, patience=3)
    history = train.fit(model, train_loader, val_loader, num_epochs=100, progress=False,
                        optimizer=torch.optim.Adam(model.parameters(), lr=0.01),
                        on_epoch_end=stopper)
    assert history.num_epochs < 100
    assert stopper.stopped_epoch == history.num_epochs - 1
    assert stopper.best_epoch == int(np.argmin(history.val_loss))
    assert stopper.stopped_epoch - stopper.best_epoch == 3
    val_loss, _ = train.evaluate(model, val_loader)
    np.testing.assert_allclose(val_loss, history.val_loss[stopper.best_epoch], rtol=1e-6)

# ---------------------------------------------------------------- augmentation


def digit_like(n=8, seed=0):
    """(n, 1, 28, 28) float32 images: a bright random bar on a dark background each."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, 28, 28)
    for i in range(n):
        row, col = torch.randint(6, 18, (2,), generator=g).tolist()
        images[i, 0, row:row + 8, col:col + 3] = 1.0
    return images


def test_augment_batch_keeps_shape_and_dtype_and_changes_the_images():
    images = digit_like()
    out = reg.augment_batch(images, reg.augmentation(rotation=20), seed=0)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert not torch.equal(out, images)
    as_bytes = (images * 255).to(torch.uint8)
    out_bytes = reg.augment_batch(as_bytes, reg.augmentation(), seed=0)
    assert out_bytes.shape == as_bytes.shape and out_bytes.dtype == torch.uint8


def test_augment_batch_is_reproducible_and_leaves_the_global_rng_alone():
    images, transform = digit_like(), reg.augmentation(rotation=20)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = reg.augment_batch(images, transform, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(reg.augment_batch(images, transform, seed=1), first)
    assert not torch.equal(reg.augment_batch(images, transform, seed=2), first)
    assert torch.equal(torch.get_rng_state(), state)


def test_augment_batch_draws_new_parameters_for_every_image():
    same = digit_like(1).expand(6, 1, 28, 28)
    out = reg.augment_batch(same, reg.augmentation(rotation=30), seed=0)
    assert len({tuple(image.flatten().tolist()) for image in out}) == 6


@pytest.mark.parametrize("interpolation, atol", [("nearest", 0.0), ("bilinear", 1e-5)])
def test_an_augmentation_without_rotation_shift_or_zoom_is_the_identity(interpolation, atol):
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    transform = reg.augmentation(rotation=0, translate=0, scale=(1, 1),
                                 interpolation=interpolation)
    torch.testing.assert_close(reg.augment_batch(images, transform, seed=0), images,
                               rtol=0, atol=atol)


def test_hflip_adds_a_horizontal_flip():
    assert not any(isinstance(t, v2.RandomHorizontalFlip)
                   for t in reg.augmentation().transforms)
    transform = reg.augmentation(rotation=0, translate=0, scale=(1, 1), hflip=True,
                                 interpolation="nearest")
    assert any(isinstance(t, v2.RandomHorizontalFlip) for t in transform.transforms)
    images = digit_like(16)
    out = reg.augment_batch(images, transform, seed=0)
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images)]
    unchanged = [torch.equal(o, i) for o, i in zip(out, images)]
    assert all(f or u for f, u in zip(flipped, unchanged))
    assert any(flipped) and any(unchanged)


def test_augmentation_fill_is_the_value_moved_in_from_outside():
    """data.mnist_tensors' background is -0.5: fill 0 would paint grey borders on it."""
    background = torch.full((4, 1, 28, 28), -0.5)
    shift = {"rotation": 0, "translate": 0.3, "scale": (1, 1)}
    kept = reg.augment_batch(background, reg.augmentation(fill=-0.5, **shift), seed=0)
    torch.testing.assert_close(kept, background, rtol=0, atol=1e-5)
    bordered = reg.augment_batch(background, reg.augmentation(**shift), seed=0)
    assert (bordered > -0.4).any()


def test_a_rotated_zoomed_background_stays_background_without_a_frame():
    """Bilinear RandomAffine blends a non-zero fill into the edge pixels (a faint frame);
    augmentation shifts the image so that the fill is exact."""
    background = torch.full((4, 1, 28, 28), -0.5)
    moves = reg.augmentation(rotation=12, translate=0.12, scale=(0.9, 1.1), fill=-0.5)
    torch.testing.assert_close(reg.augment_batch(background, moves, seed=0), background,
                               rtol=0, atol=1e-5)

# ---------------------------------------------------------------- kfold_indices


@DETERMINISTIC
@given(n=st.integers(2, 60), k_fraction=st.floats(0, 1), shuffle=st.booleans(), seed=seeds)
def test_kfold_folds_are_disjoint_covering_balanced_and_complemented(n, k_fraction, shuffle,
                                                                     seed):
    k = 2 + int(k_fraction * (n - 2))
    folds = reg.kfold_indices(n, k, shuffle=shuffle, seed=seed)
    assert len(folds) == k
    vals = [val for _, val in folds]
    np.testing.assert_array_equal(np.sort(np.concatenate(vals)), np.arange(n))  # exact cover
    sizes = [len(val) for val in vals]
    assert max(sizes) - min(sizes) <= 1
    for train_idx, val_idx in folds:
        assert train_idx.dtype.kind == val_idx.dtype.kind == "i"
        assert np.all(np.diff(train_idx) > 0) and np.all(np.diff(val_idx) > 0)
        np.testing.assert_array_equal(np.union1d(train_idx, val_idx), np.arange(n))
        assert len(train_idx) + len(val_idx) == n


def test_kfold_is_seeded():
    first = reg.kfold_indices(30, 5, seed=1)
    again = reg.kfold_indices(30, 5, seed=1)
    other = reg.kfold_indices(30, 5, seed=2)
    for (t1, v1), (t2, w2) in zip(first, again):
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(v1, w2)
    assert any(not np.array_equal(v1, w2) for (_, v1), (_, w2) in zip(first, other))
    consecutive = [np.arange(6 * i, 6 * i + 6) for i in range(5)]
    assert any(not np.array_equal(v, c) for (_, v), c in zip(first, consecutive))


def test_kfold_without_shuffle_gives_consecutive_blocks():
    folds = reg.kfold_indices(10, 3, shuffle=False)
    expected = [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]  # the first 10 % 3 folds get one more
    for (train_idx, val_idx), block in zip(folds, expected):
        np.testing.assert_array_equal(val_idx, block)
        np.testing.assert_array_equal(train_idx, [i for i in range(10) if i not in block])


@pytest.mark.parametrize("n, k", [(10, 1), (10, 0), (3, 4)])
def test_kfold_rejects_k_outside_2_to_n(n, k):
    with pytest.raises(ValueError, match=f"k={k} and n={n}"):
        reg.kfold_indices(n, k)


def test_augmented_batches_transform_each_pass_anew_and_repeatably():
    x, y = torch.randn(10, 1, 28, 28), torch.arange(10)
    transform = reg.augmentation(rotation=30, translate=0.2, scale=(0.8, 1.2))

    def two_passes():
        loader = reg.AugmentedBatches(TensorBatches(x, y, batch_size=4), transform, seed=3)
        assert len(loader) == 3
        return [list(loader) for _ in range(2)]

    first, again = two_passes(), two_passes()
    for (xa, ya), (xb, yb) in zip(first[0] + first[1], again[0] + again[1]):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)  # repeatable run
    assert torch.equal(torch.cat([b for _, b in first[0]]), y)  # labels pass through
    assert not torch.equal(first[0][0][0], first[1][0][0])  # a new draw each pass
    assert not torch.equal(first[0][0][0], x[:4])  # the images were transformed
