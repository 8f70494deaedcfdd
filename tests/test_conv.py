"""labutils.conv against PyTorch autograd, loop definitions and central differences, in float64.

Every expectation is computed at test time: by torch.nn.functional (conv2d, max_pool2d,
avg_pool2d with autograd), by loops written out here, or by grading.numerical_gradient.
The tuned engine is tested equal to these layers in test_conv_engine.py; figures in test_plots.py.
Inputs come from hypothesis (derandomized) or a seeded generator, so every run is the same.
"""

import ast
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from labutils import backprop as bp
from labutils import conv
from labutils.grading import numerical_gradient, random_array, torch_gradients

DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=20)
TIGHT = {"rtol": 1e-10, "atol": 1e-12}  # numpy vs torch or loops: same sums, float64
NUMERIC = {"rtol": 1e-6, "atol": 1e-8}  # analytic vs central differences with h = 1e-5


def distinct_array(seed, shape):
    """Values spaced 0.1 apart in random order: no ties, and no near-ties a step h can flip."""
    size = int(np.prod(shape))
    return 0.1 * np.random.default_rng(seed).permutation(size).reshape(shape).astype(float)


@st.composite
def window_cases(draw, max_filter=4, max_stride=3, max_pad=2, pool=False):
    """(N, C, H, W), (fh, fw), stride, pad such that the windows fit exactly.

    H and W are built from the output size, so conv_output_size never raises; pools keep
    pad <= half the window as PyTorch requires.
    """
    fh, fw = draw(st.integers(1, max_filter)), draw(st.integers(1, max_filter))
    stride = draw(st.integers(1, max_stride))
    OH, OW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # the largest pad that still leaves an input of at least 1 x 1
    fits = min((OH - 1) * stride + fh - 1, (OW - 1) * stride + fw - 1) // 2
    pad = draw(st.integers(0, min(fits, min(fh, fw) // 2 if pool else max_pad)))
    H, W = (OH - 1) * stride + fh - 2 * pad, (OW - 1) * stride + fw - 2 * pad
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (N, C, H, W), (fh, fw), stride, pad


seeds = st.integers(0, 2**32 - 1)
layouts = st.sampled_from(["contiguous", "transposed"])

# ---------------------------------------------------------------- conv_output_size


@DETERMINISTIC
@given(size=st.integers(1, 40), filter_size=st.integers(1, 7), stride=st.integers(1, 4),
       pad=st.integers(0, 3))
def test_conv_output_size_matches_torch_when_it_fits(size, filter_size, stride, pad):
    """Where the sizes fit, the int result is the output length of torch's conv2d."""
    fits = filter_size <= size + 2 * pad and (size + 2 * pad - filter_size) % stride == 0
    if not fits:
        with pytest.raises(ValueError):
            conv.conv_output_size(size, filter_size, stride, pad)
        return
    result = conv.conv_output_size(size, filter_size, stride, pad)
    expected = F.conv2d(torch.zeros(1, 1, size, 1), torch.zeros(1, 1, filter_size, 1),
                        stride=stride, padding=(pad, 0)).shape[2]
    assert type(result) is int and result == expected


def test_conv_output_size_errors_name_the_numbers():
    """A filter larger than the padded input, or a stride that does not land, is refused."""
    with pytest.raises(ValueError, match=r"filter 7 is larger than the padded input 4 \+ 2\*1 = 6"):
        conv.conv_output_size(4, 7, 1, 1)
    with pytest.raises(ValueError, match=r"input 28 \+ 2\*pad 0 - filter 5 = 23 .*stride 2"):
        conv.conv_output_size(28, 5, 2, 0)
    with pytest.raises(ValueError, match="stride"):
        conv.conv_output_size(28, 5, 0, 0)
    with pytest.raises(ValueError, match="divisible"):
        layer = conv.Convolution(np.zeros((2, 1, 5, 5)), np.zeros(2), stride=2)
        layer.forward(np.zeros((1, 1, 28, 28)))


# ---------------------------------------------------------------- im2col and col2im


def im2col_by_loops(x, fh, fw, stride, pad):
    """The definition: row (n, i, j) holds the patch at (i*stride, j*stride), taps (c, p, q)."""
    N, C, H, W = x.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OH, OW = (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1
    col = np.zeros((N * OH * OW, C * fh * fw))
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                patch = x_pad[n, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
                col[(n * OH + i) * OW + j] = patch.ravel()
    return col


@DETERMINISTIC
@given(case=window_cases(), seed=seeds)
@example(case=((1, 1, 3, 3), (2, 2), 1, 0), seed=0)
def test_im2col_matches_the_loop_definition(case, seed):
    """Every row of im2col is one padded patch, rows in (n, i, j) order, taps in (c, p, q) order."""
    x_shape, (fh, fw), stride, pad = case
    x = random_array(seed, x_shape)
    np.testing.assert_array_equal(conv.im2col(x, fh, fw, stride, pad),
                                  im2col_by_loops(x, fh, fw, stride, pad))


@DETERMINISTIC
@given(case=window_cases(), seed=seeds)
@example(case=((2, 2, 5, 5), (3, 3), 1, 1), seed=1)  # overlapping patches with padding
def test_col2im_is_the_adjoint_of_im2col(case, seed):
    """<im2col(x), y> = <x, col2im(y)>: overlapping patches are summed, padding dropped."""
    x_shape, (fh, fw), stride, pad = case
    x = random_array(seed, x_shape)
    y = random_array(seed + 1, conv.im2col(x, fh, fw, stride, pad).shape)
    back = conv.col2im(y, x_shape, fh, fw, stride, pad)
    assert back.shape == x_shape
    np.testing.assert_allclose(np.sum(conv.im2col(x, fh, fw, stride, pad) * y), np.sum(x * back),
                               **TIGHT)


def test_col2im_sums_overlaps_rather_than_inverting():
    """col2im(im2col(ones)) counts how many patches cover each pixel: it is not an inverse."""
    ones = np.ones((1, 1, 3, 3))
    counts = conv.col2im(conv.im2col(ones, 2, 2), ones.shape, 2, 2)
    np.testing.assert_array_equal(counts[0, 0], np.outer([1, 2, 1], [1, 2, 1]))


# ---------------------------------------------------------------- Convolution


@DETERMINISTIC
@given(case=window_cases(), filters=st.integers(1, 4), seed=seeds, layout=layouts)
@example(case=((2, 3, 7, 10), (3, 2), 2, 1), filters=4, seed=0, layout="contiguous")
def test_convolution_matches_torch_conv2d(case, filters, seed, layout):
    """out, dx, dW, db equal conv2d's output and autograd gradients (odd shapes, strides, pads)."""
    x_shape, (fh, fw), stride, pad = case
    x = random_array(seed, x_shape, layout)
    W = random_array(seed + 1, (filters, x_shape[1], fh, fw))
    b = random_array(seed + 2, (filters,))
    layer = conv.Convolution(W, b, stride, pad)
    out = layer.forward(x)
    dout = random_array(seed + 3, out.shape, layout)
    expected, (dx, dW, db) = torch_gradients(
        lambda *a: F.conv2d(*a, stride=stride, padding=pad), (x, W, b), dout)
    np.testing.assert_allclose(out, expected, **TIGHT)
    np.testing.assert_allclose(layer.backward(dout), dx, **TIGHT)
    np.testing.assert_allclose(layer.dW, dW, **TIGHT)
    np.testing.assert_allclose(layer.db, db, **TIGHT)


@settings(DETERMINISTIC, max_examples=10)
@given(case=window_cases(max_filter=3), filters=st.integers(1, 3), seed=seeds)
def test_naive_convolution_equals_the_fast_layer(case, filters, seed):
    """conv_forward_naive / conv_backward_naive (loops) and Convolution (im2col) agree."""
    x_shape, (fh, fw), stride, pad = case
    x, W = random_array(seed, x_shape), random_array(seed + 1, (filters, x_shape[1], fh, fw))
    b = np.arange(filters, dtype=float)
    layer = conv.Convolution(W, b, stride, pad)
    out = layer.forward(x)
    np.testing.assert_allclose(conv.conv_forward_naive(x, W, b, stride, pad), out, **TIGHT)
    dout = random_array(seed + 2, out.shape)
    dx, dW, db = conv.conv_backward_naive(dout, x, W, stride, pad)
    np.testing.assert_allclose(dx, layer.backward(dout), **TIGHT)
    np.testing.assert_allclose(dW, layer.dW, **TIGHT)
    np.testing.assert_allclose(db, layer.db, **TIGHT)


def weighted_sum(forward, dout):
    """Scalar L = <forward(), dout>, whose gradient w.r.t. anything is backward(dout)."""
    return lambda _: float(np.sum(forward() * dout))


def test_convolution_gradients_match_central_differences():
    """dx, dW and db of Convolution (stride 2, pad 1) against grading.numerical_gradient."""
    x, W, b = random_array(0, (2, 3, 5, 7)), random_array(1, (4, 3, 3, 3)), np.arange(4.0)
    layer = conv.Convolution(W, b, stride=2, pad=1)
    dout = random_array(2, layer.forward(x).shape)
    dx = layer.backward(dout)
    L = weighted_sum(lambda: layer.forward(x), dout)
    np.testing.assert_allclose(dx, numerical_gradient(L, x), **NUMERIC)
    np.testing.assert_allclose(layer.dW, numerical_gradient(L, W), **NUMERIC)
    np.testing.assert_allclose(layer.db, numerical_gradient(L, b), **NUMERIC)


# ---------------------------------------------------------------- pooling

POOLS = [(conv.MaxPooling, F.max_pool2d), (conv.AveragePooling, F.avg_pool2d)]


@pytest.mark.parametrize("pool, torch_pool", POOLS, ids=["max", "average"])
@DETERMINISTIC
@given(case=window_cases(pool=True), seed=seeds, layout=layouts)
@example(case=((1, 2, 5, 5), (3, 3), 2, 1), seed=0, layout="contiguous")  # padded, overlapping
def test_pooling_matches_torch(pool, torch_pool, case, seed, layout):
    """Forward and dx equal torch's, padding included (max: -inf, average: zeros counted)."""
    x_shape, (ph, pw), stride, pad = case
    x = random_array(seed, x_shape, layout)
    layer = pool(ph, pw, stride, pad)
    out = layer.forward(x)
    dout = random_array(seed + 1, out.shape, layout)
    expected, (dx,) = torch_gradients(
        lambda t: torch_pool(t, (ph, pw), stride, pad), (x,), dout)
    np.testing.assert_allclose(out, expected, **TIGHT)
    np.testing.assert_allclose(layer.backward(dout), dx, **TIGHT)


def test_max_pooling_gives_a_tie_to_the_first_maximum():
    """Equal maxima: the whole gradient goes to the first one in row-major window order."""
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 0.0, 2.0, 2.0]]]])
    layer = conv.MaxPooling(2, 2)
    np.testing.assert_array_equal(layer.forward(x), [[[[1.0, 2.0]]]])
    dx = layer.backward(np.array([[[[5.0, 7.0]]]]))
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0, 0.0, 7.0],
                                         [0.0, 0.0, 0.0, 0.0]]]])


@DETERMINISTIC
@given(case=window_cases(pool=True), seed=seeds)
def test_max_pooling_ties_agree_with_torch(case, seed):
    """With many ties (values in {0, 1, 2}) and overlapping windows, dx still equals torch's."""
    x_shape, (ph, pw), stride, pad = case
    x = np.random.default_rng(seed).integers(0, 3, x_shape).astype(float)
    layer = conv.MaxPooling(ph, pw, stride, pad)
    out = layer.forward(x)
    dout = random_array(seed + 1, out.shape)
    _, (dx,) = torch_gradients(lambda t: F.max_pool2d(t, (ph, pw), stride, pad), (x,), dout)
    np.testing.assert_allclose(layer.backward(dout), dx, **TIGHT)


@DETERMINISTIC
@given(case=window_cases(pool=True), seed=seeds)
def test_naive_max_pool_equals_the_fast_layer(case, seed):
    """max_pool_forward_naive (loops) and MaxPooling agree, padding included."""
    x_shape, (ph, pw), stride, pad = case
    x = random_array(seed, x_shape)
    np.testing.assert_array_equal(conv.max_pool_forward_naive(x, ph, pw, stride, pad),
                                  conv.MaxPooling(ph, pw, stride, pad).forward(x))


@pytest.mark.parametrize("pool", [conv.MaxPooling, conv.AveragePooling], ids=["max", "average"])
def test_pooling_gradient_matches_central_differences(pool):
    """dx of a padded, overlapping 3x3 pool (stride 2) against grading.numerical_gradient."""
    x = distinct_array(0, (2, 2, 7, 5))
    layer = pool(3, 3, stride=2, pad=1)
    dout = random_array(1, layer.forward(x).shape)
    dx = layer.backward(dout)
    L = weighted_sum(lambda: layer.forward(x), dout)
    np.testing.assert_allclose(dx, numerical_gradient(L, x), **NUMERIC)


def test_pooling_arguments_are_checked():
    """Too much padding and a non-square pool without a stride are refused, as in PyTorch."""
    with pytest.raises(ValueError, match="at most half"):
        conv.MaxPooling(2, 2, pad=2)
    with pytest.raises(ValueError, match="pass stride"):
        conv.AveragePooling(2, 3)
    assert conv.MaxPooling(3, 3).stride == 3


# ---------------------------------------------------------------- contracts of every layer


def every_layer():
    """A fresh layer of each kind and an input it accepts."""
    W, b = random_array(1, (3, 2, 3, 3)), random_array(2, (3,))
    return [(conv.Convolution(W, b, 1, 1), random_array(0, (2, 2, 6, 6))),
            (conv.MaxPooling(2, 2), distinct_array(0, (2, 2, 6, 6))),
            (conv.AveragePooling(3, 3, stride=1, pad=1), random_array(0, (2, 2, 6, 6)))]


@pytest.mark.parametrize("index", range(3), ids=["conv", "max", "average"])
def test_layers_leave_x_and_dout_alone(index):
    """Neither forward nor backward writes into the arrays it is given."""
    layer, x = every_layer()[index]
    x_before = x.copy()
    out = layer.forward(x)
    dout = random_array(3, out.shape)
    dout_before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)


@pytest.mark.parametrize("index", range(3), ids=["conv", "max", "average"])
def test_layers_keep_float32(index):
    """float32 in, float32 out, forward and backward (and dW, db): nothing upcasts."""
    layer, x = every_layer()[index]
    if isinstance(layer, conv.Convolution):
        layer.W, layer.b = layer.W.astype(np.float32), layer.b.astype(np.float32)
    out = layer.forward(x.astype(np.float32))
    dx = layer.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == dx.dtype == np.float32
    for grad in (getattr(layer, "dW", None), getattr(layer, "db", None)):
        assert grad is None or grad.dtype == np.float32


def test_conv_module_imports_numpy_only():
    """labutils.conv is the NumPy reference: no torch or scipy behind its back."""
    tree = ast.parse(inspect.getsource(conv))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"numpy", "labutils"}, imported


# ---------------------------------------------------------------- SimpleConvNet


def tiny_net():
    """A float64 SimpleConvNet small enough for central differences: 2x8x6 -> 3 classes."""
    return conv.SimpleConvNet(input_dim=(2, 8, 6), filter_num=3, filter_size=3, stride=1, pad=1,
                              hidden_size=5, output_size=3, weight_init_std="he", seed=3,
                              dtype=np.float64)


def test_simple_conv_net_gradient_matches_central_differences():
    """Every gradient of the whole network against grading.numerical_gradient."""
    net = tiny_net()
    net.params["b1"] += 0.1  # nonzero biases, so a wrong db shows
    x, t = distinct_array(0, (4, 2, 8, 6)) - 5.0, np.array([0, 2, 1, 2])
    grads = net.gradient(x, t)
    assert grads.keys() == net.params.keys()
    for key, param in net.params.items():
        numeric = numerical_gradient(lambda _: net.loss(x, t), param)
        np.testing.assert_allclose(grads[key], numeric, **NUMERIC, err_msg=key)


def test_simple_conv_net_is_the_seed_architecture():
    """predict and loss equal torch's Conv-ReLU-MaxPool-Affine-ReLU-Affine + cross-entropy."""
    net = tiny_net()
    x, t = random_array(0, (4, 2, 8, 6)), np.array([0, 2, 1, 2])
    p = {key: torch.tensor(value) for key, value in net.params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x), p["W1"], p["b1"], padding=1)), 2)
    h = F.relu(h.flatten(1) @ p["W2"] + p["b2"])
    scores = h @ p["W3"] + p["b3"]
    np.testing.assert_allclose(net.predict(x), scores.numpy(), **TIGHT)
    np.testing.assert_allclose(net.loss(x, t), F.cross_entropy(scores, torch.tensor(t)).item(),
                               **TIGHT)


def test_simple_conv_net_shapes_defaults_and_batched_accuracy():
    """The seed's network: 30 5x5 filters, 30*12*12 -> 100 -> 10; accuracy by batches is exact."""
    net = conv.SimpleConvNet(weight_init_std="he")
    shapes = {key: value.shape for key, value in net.params.items()}
    assert shapes == {"W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,),
                      "W3": (100, 10), "b3": (10,)}
    assert all(value.dtype == np.float32 for value in net.params.values())
    x = np.random.default_rng(0).random((7, 1, 28, 28))
    t = net.predict(x).argmax(axis=1)
    t[1::2] = (t[1::2] + 1) % 10  # samples 0, 2, 4, 6 right, 1, 3, 5 wrong
    assert net.accuracy(x, t, batch_size=3) == pytest.approx(4 / 7, abs=1e-15)
    assert net.accuracy(x, np.eye(10)[t], batch_size=2) == pytest.approx(4 / 7, abs=1e-15)


def test_simple_conv_net_learns_with_adam():
    """A few Adam steps on one small batch lower the loss (the layers share params by reference)."""
    net = conv.SimpleConvNet(input_dim=(1, 12, 12), filter_num=4, filter_size=3, hidden_size=16,
                             weight_init_std="he")
    rng = np.random.default_rng(0)
    x, t = rng.random((16, 1, 12, 12), dtype=np.float32), rng.integers(0, 10, 16)
    optimizer, first = bp.Adam(lr=0.01), net.loss(x, t)
    for _ in range(40):
        optimizer.update(net.params, net.gradient(x, t))
    assert net.loss(x, t) < 0.3 * first


# ---------------------------------------------------------------- the lecture's pictures


def test_worked_example_maps_match_torch():
    """The "5" and the vertical bar of lecture 3: strides 3 and 1, as torch computes them."""
    five = torch.tensor(conv.DIGIT_FIVE)[None, None]
    bar = torch.tensor(conv.VERTICAL_BAR)[None, None]
    for stride in (3, 1):
        layer = conv.Convolution(conv.VERTICAL_BAR[None, None], np.zeros(1), stride=stride)
        ours = layer.forward(conv.DIGIT_FIVE[None, None])
        np.testing.assert_array_equal(ours, F.conv2d(five, bar, stride=stride).numpy())
    # what the lecture says of the stride-3 map: the two vertical strokes score highest
    stride3 = conv.Convolution(conv.VERTICAL_BAR[None, None], np.zeros(1), 3).forward(
        conv.DIGIT_FIVE[None, None])[0, 0]
    assert stride3[0, 0] == stride3[1, 1] == stride3.max() > stride3[0, 1] > stride3[1, 0]


def gabor_by_formula(size, wavelength, theta, sigma, gamma, psi, row, col):
    """One entry of the Gabor filter, straight from its formula."""
    y, x = row - (size - 1) / 2, col - (size - 1) / 2
    u, v = x * np.cos(theta) + y * np.sin(theta), -x * np.sin(theta) + y * np.cos(theta)
    return np.exp(-(u ** 2 + gamma ** 2 * v ** 2) / (2 * sigma ** 2)) * np.cos(
        2 * np.pi * u / wavelength + psi)


@DETERMINISTIC
@given(size=st.integers(1, 11), wavelength=st.floats(2, 10), theta=st.floats(0, np.pi),
       psi=st.floats(-np.pi, np.pi))
def test_gabor_kernel_is_the_formula(size, wavelength, theta, psi):
    """Every entry equals the formula, with sigma = wavelength / 2 by default."""
    kernel = conv.gabor_kernel(size, wavelength, theta, psi=psi)
    assert kernel.shape == (size, size)
    expected = [[gabor_by_formula(size, wavelength, theta, wavelength / 2, 0.5, psi, r, c)
                 for c in range(size)] for r in range(size)]
    np.testing.assert_allclose(kernel, expected, rtol=1e-12, atol=1e-12)


def test_gabor_kernel_orientation():
    """theta = 0 gives vertical stripes (a cosine along x); 90 degrees is its transpose."""
    vertical = conv.gabor_kernel(9, wavelength=4.0, theta=0.0, gamma=1.0, sigma=100.0)
    np.testing.assert_allclose(vertical, np.broadcast_to(vertical[4], vertical.shape),
                               atol=2e-3)  # (almost) constant columns under a wide envelope
    np.testing.assert_allclose(vertical[4], np.cos(2 * np.pi * np.arange(-4, 5) / 4), atol=1e-3)
    np.testing.assert_allclose(conv.gabor_kernel(7, 5.0, np.pi / 2), conv.gabor_kernel(7, 5.0, 0).T,
                               atol=1e-12)


def test_im2col_explorer_draws_a_static_figure(monkeypatch, capsys):
    """Headless, the widget draws the input and the im2col matrix once; bad sizes print why."""
    import matplotlib.pyplot as plt

    from labutils import widgets
    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    monkeypatch.setattr(plt, "show", lambda: None)  # keep the figure open to inspect it
    assert widgets.im2col_explorer(size=3, stride=1, pad=1, row=7) is None
    ax_in, ax_col = plt.gcf().axes
    assert "row 7 = output position (1, 1)" in ax_col.get_title()
    assert "padded by 1" in ax_in.get_title()
    plt.close("all")
    widgets.im2col_explorer(size=3, stride=2, pad=0)
    assert "does not fit the 6x6 input" in capsys.readouterr().out
    assert not plt.get_fignums()
