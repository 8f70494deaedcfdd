"""labutils.conv_engine: the tuned convolution computes what the reference Convolution computes.

The reference (labutils.conv.Convolution) is itself tested against torch in test_conv.py; here
FastConvolution is compared with it on the same inputs, forward and backward, over shapes with
strides and padding, both chunk orders of dx, threads, and reused work arrays. float64, so the
two differ only by the order of the sums. FastMaxPooling is compared with conv.MaxPooling the
same way (bit for bit: max pooling adds nothing up), and SimpleConvNet's order of pooling and
ReLU with the lecture's.
"""

import platform

import numpy as np
import pytest
import torch.nn.functional as F

from labutils import backprop, conv
from labutils.conv_engine import FastConvolution, FastMaxPooling, keep_freed_memory
from labutils.grading import random_array, torch_gradients

TIGHT = {"rtol": 1e-10, "atol": 1e-12}

# (N, C, H, W), (FN, FH, FW), stride, pad: odd sizes, strides, pads, 1x1 and wide filters
SHAPES = [
    ((2, 3, 7, 10), (4, 3, 2), 2, 1),
    ((1, 1, 6, 6), (1, 3, 3), 3, 0),
    ((3, 2, 9, 7), (5, 1, 1), 1, 0),
    ((4, 1, 28, 28), (6, 5, 5), 1, 0),
    ((2, 8, 8, 8), (3, 3, 3), 1, 2),
    ((5, 3, 11, 9), (2, 5, 3), 2, 2),
]


def both_layers(x_shape, w_shape, stride, pad, seed=0):
    """The reference and the engine on the same (shared) W and b, and an input x."""
    FN, FH, FW = w_shape
    W, b = random_array(seed + 1, (FN, x_shape[1], FH, FW)), random_array(seed + 2, (FN,))
    x = random_array(seed, x_shape, "transposed")
    return conv.Convolution(W, b, stride, pad), FastConvolution(W, b, stride, pad), x


def run(layer, x, dout):
    out = np.array(layer.forward(x))
    return out, layer.backward(dout), layer.dW, layer.db


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", SHAPES)
def test_engine_equals_the_reference(x_shape, w_shape, stride, pad):
    """out, dx, dW and db of FastConvolution are those of conv.Convolution."""
    reference, engine, x = both_layers(x_shape, w_shape, stride, pad)
    dout = random_array(3, reference.forward(x).shape)
    for want, got, name in zip(run(reference, x, dout), run(engine, x, dout),
                               ("out", "dx", "dW", "db")):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, **TIGHT, err_msg=name)


@pytest.mark.parametrize("images_per_chunk", [1, 2, 5])
@pytest.mark.parametrize("w_shape", [(4, 3, 2), (20, 2, 2)],
                         ids=["more taps than filters", "more filters than taps"])
def test_chunked_dx_equals_the_reference_in_any_chunking(w_shape, images_per_chunk):
    """The chunked dx (both column orders of a chunk) is the lecture's col2im(dout2 @ W2)."""
    C = 3 if w_shape[0] == 4 else 1
    reference, engine, x = both_layers((5, C, 6, 7), w_shape, 1, 1)
    dout = random_array(2, reference.forward(x).shape)
    engine.forward(x)
    engine.CHUNK_BYTES = images_per_chunk * engine.W[0].size * dout[0, 0].size * dout.itemsize
    np.testing.assert_allclose(engine.backward(dout), reference.backward(dout), **TIGHT)


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_parts_in_threads_equal_the_reference(threads):
    """A batch cut into parts run in threads gives the reference's results (N=5: a part may
    hold one image; 7 threads: more parts wanted than images)."""
    reference, engine, x = both_layers((5, 3, 6, 7), (4, 3, 2), 1, 1)
    engine.threads, engine.PARALLEL_BYTES = threads, 0
    dout = random_array(3, reference.forward(x).shape)
    for want, got in zip(run(reference, x, dout), run(engine, x, dout)):
        np.testing.assert_allclose(got, want, **TIGHT)
    assert len(engine._parts(5)) == min(threads, 5)


def test_work_arrays_are_reused_safely():
    """Batches of other sizes and dtypes in turn: torch's gradients each time, and an earlier
    output is not overwritten by a later forward."""
    W, b = random_array(0, (3, 2, 3, 3)), random_array(1, (3,))
    engine = FastConvolution(W, b, stride=1, pad=1)
    first = engine.forward(random_array(2, (4, 2, 5, 5)))
    kept = first.copy()
    for N, dtype in [(2, np.float64), (4, np.float32), (3, np.float64)]:
        x = random_array(3 + N, (N, 2, 5, 5)).astype(dtype)
        out = engine.forward(x)
        dout = random_array(4, out.shape).astype(dtype)
        _, (dx, dW, _) = torch_gradients(lambda *a: F.conv2d(*a, padding=1), (x, W, b), dout)
        rtol = 1e-5 if dtype == np.float32 else TIGHT["rtol"]
        np.testing.assert_allclose(engine.backward(dout), dx, rtol=rtol, atol=1e-5)
        np.testing.assert_allclose(engine.dW, dW, rtol=rtol, atol=1e-4)
    np.testing.assert_array_equal(first, kept)


def test_engine_keeps_float32_and_leaves_its_inputs_alone():
    """float32 in, float32 out (dx, dW, db too); x and dout are not written into."""
    W, b = random_array(0, (3, 2, 3, 3)).astype(np.float32), np.zeros(3, np.float32)
    engine = FastConvolution(W, b, 1, 1)
    x = random_array(1, (2, 2, 6, 6)).astype(np.float32)
    x_before = x.copy()
    out = engine.forward(x)
    dout = np.ones(out.shape, dtype=np.float32)
    dx = engine.backward(dout)
    assert out.dtype == dx.dtype == engine.dW.dtype == engine.db.dtype == np.float32
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, 1.0)


def test_without_input_grad_only_dx_is_skipped():
    """input_grad = False: backward returns None and the same dW and db."""
    reference, engine, x = both_layers((4, 3, 6, 7), (4, 3, 2), 1, 1)
    dout = random_array(3, reference.forward(x).shape)
    reference.backward(dout)
    engine.input_grad = False
    engine.forward(x)
    assert engine.backward(dout) is None
    np.testing.assert_allclose(engine.dW, reference.dW, **TIGHT)
    np.testing.assert_allclose(engine.db, reference.db, **TIGHT)


# (N, C, H, W), pool_h, pool_w, stride, pad. Tiling (stride = pool size, no padding): the
# network's pool, a 3x3 pool on a non-square image. Others run MaxPooling's code:
# overlap and padding, a non-square pool, a 1x1 pool.
POOLS = [((6, 3, 8, 8), 2, 2, 2, 0), ((3, 2, 9, 12), 3, 3, 3, 0),
         ((5, 2, 7, 9), 3, 3, 2, 1), ((4, 1, 6, 6), 3, 2, 1, 0), ((2, 2, 5, 5), 1, 1, 1, 0)]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("x_shape, pool_h, pool_w, stride, pad", POOLS)
def test_max_pooling_equals_the_reference(x_shape, pool_h, pool_w, stride, pad, layout):
    """out and dx of FastMaxPooling are MaxPooling's bit for bit, ties included (rounded inputs
    make equal maxima in a window), in any memory layout of x and dout."""
    x = np.round(random_array(0, x_shape, layout) * 2) / 2
    reference = conv.MaxPooling(pool_h, pool_w, stride, pad)
    engine = FastMaxPooling(pool_h, pool_w, stride, pad)
    out = reference.forward(x)
    np.testing.assert_array_equal(engine.forward(x), out)
    dout = random_array(1, out.shape, layout)
    dx = engine.backward(dout)
    assert dx.shape == x.shape and dx.dtype == dout.dtype
    np.testing.assert_array_equal(dx, reference.backward(dout))


def test_max_pooling_keeps_the_layout_of_a_convolution_output():
    """Fed a convolution's output (a transposed view), the pooling returns out and dx laid out
    the same way: the ReLU and the convolution's backward then read them in memory order."""
    W, b = random_array(1, (4, 2, 3, 3)), random_array(2, (4,))
    maps = FastConvolution(W, b).forward(random_array(0, (3, 2, 10, 10)))
    pool = FastMaxPooling(2, 2)
    out = pool.forward(maps)
    dx = pool.backward(random_array(3, out.shape))
    in_memory_order = [np.argsort(a.strides)[::-1].tolist() for a in (maps, out, dx)]
    assert in_memory_order[0] == in_memory_order[1] == in_memory_order[2] != [0, 1, 2, 3]


def lecture_order(net):
    """net's layers in the lecture's order Conv - ReLU - MaxPool - ..., the pooling the
    reference's, the other layers net's own."""
    return [net.layers[0], backprop.ReLU(), conv.MaxPooling(2, 2)] + net.layers[3:]


def test_simple_conv_net_pools_before_the_relu_with_the_same_loss_and_gradients():
    """Pooling first, then ReLU (the network's order) gives exactly the loss and gradients of
    the lecture's ReLU, then pooling: on digit-like inputs with many zeros, so that whole
    windows are negative or tied."""
    net = conv.SimpleConvNet(input_dim=(1, 10, 10), filter_num=4, filter_size=3, hidden_size=6,
                             weight_init_std="he", dtype=np.float64)
    x = np.maximum(np.round(random_array(0, (5, 1, 10, 10)), 1), 0)
    t = np.arange(5) % 10
    want_loss, want = net.loss(x, t), net.gradient(x, t)
    net.layers = lecture_order(net)
    got_loss, got = net.loss(x, t), net.gradient(x, t)
    assert got_loss == want_loss
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_simple_conv_net_runs_on_the_engine():
    """SimpleConvNet's convolution and pooling are the engine's (what the lecture trains and
    bench/ times); its first layer skips the images' gradient, which nothing reads."""
    net = conv.SimpleConvNet(input_dim=(1, 8, 8), filter_num=2, filter_size=3, hidden_size=4)
    assert type(net.layers[0]) is FastConvolution and not net.layers[0].input_grad
    assert type(net.layers[1]) is FastMaxPooling and type(net.layers[2]) is backprop.ReLU
    assert net.layers[0].W is net.params["W1"] and net.layers[0].b is net.params["b1"]


def test_keep_freed_memory_takes_effect_exactly_on_glibc():
    """mallopt takes both settings where the C library is glibc (Linux: the hub, CI), and
    elsewhere the call changes nothing and says so."""
    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
