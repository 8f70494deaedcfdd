"""Topic 3: course/03_conv.ipynb, source/03_conv/, tests/test_conv.py

Convolution (畳み込み) and pooling (プーリング) by im2col/col2im, in NumPy only: the readable
reference to read beside the lecture. What the lecture builds, in order:

* ``conv_output_size``: OH = (H + 2*pad - FH) // stride + 1, refusing sizes that do not fit;
* ``conv_forward_naive`` / ``conv_backward_naive`` / ``max_pool_forward_naive``: the definitions
  as plain loops, slow on purpose, kept to read and to test the layers against;
* ``im2col``: every filter-sized patch of the input becomes one row of a matrix, so that the
  whole convolution is one matrix product; ``col2im`` is its adjoint and sums patch gradients
  back onto the image;
* the layers ``Convolution``, ``MaxPooling`` and ``AveragePooling`` with the same
  ``forward``/``backward`` contract as ``labutils.backprop`` (gradients kept as ``dW``, ``db``);
* ``SimpleConvNet``: Conv - ReLU - Pool - Affine - ReLU - Affine - SoftmaxWithLoss (its layers
  run the pooling before the ReLU: the two commute, see the class).

The tuned convolution (threads, chunks, reused buffers) is ``labutils.conv_engine``, tested
equal to ``Convolution``; the lecture's figures are drawn by ``labutils.plots``.

Shapes: N batch, C input channels, H x W input size, FN filters of FH x FW, OH x OW output size.
Images are (N, C, H, W) and filters (FN, C, FH, FW), as in PyTorch. Every layer works in the
dtype it is given: train in float32 (about twice as fast), check gradients in float64.
Convolution here is cross-correlation (the filter is not flipped), as in
``torch.nn.functional.conv2d``.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from labutils.backprop import Affine, ReLU, SoftmaxWithLoss, init_std

# ---------------------------------------------------------------- sizes


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """Output length of a filter sliding over one axis: (input + 2*pad - filter) // stride + 1.

    Returns an int. Raises ValueError, naming the numbers, when the filter does not fit the
    padded input or does not land exactly on its last position (PyTorch would silently drop
    the leftover rows; here a size that does not fit is treated as a mistake).
    """
    if stride < 1 or pad < 0 or filter_size < 1:
        raise ValueError(f"need stride >= 1, pad >= 0, filter >= 1; got stride={stride}, "
                         f"pad={pad}, filter={filter_size}")
    padded = input_size + 2 * pad
    if filter_size > padded:
        raise ValueError(f"filter {filter_size} is larger than the padded input "
                         f"{input_size} + 2*{pad} = {padded}")
    if (padded - filter_size) % stride:
        raise ValueError(f"input {input_size} + 2*pad {pad} - filter {filter_size} = "
                         f"{padded - filter_size} is not divisible by stride {stride}")
    return (padded - filter_size) // stride + 1


def _output_hw(x_shape, fh, fw, stride, pad):
    """(OH, OW) of an (N, C, H, W) input."""
    return (conv_output_size(x_shape[2], fh, stride, pad),
            conv_output_size(x_shape[3], fw, stride, pad))


# ---------------------------------------------------------------- the definitions, as loops


def _pad(x, pad, value=0.0):
    """x (N, C, H, W) framed by `pad` rows and columns of `value`; x itself when pad == 0."""
    if pad == 0:
        return x
    N, C, H, W = x.shape
    padded = np.full((N, C, H + 2 * pad, W + 2 * pad), value, dtype=x.dtype)
    padded[:, :, pad:pad + H, pad:pad + W] = x
    return padded


def conv_forward_naive(x, W, b, stride=1, pad=0):
    """Convolution by its definition, one output number at a time (slow; for teaching).

    out[n, f, i, j] = sum over c, p, q of x_pad[n, c, i*stride + p, j*stride + q] W[f, c, p, q]
                      + b[f]
    x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,) -> out: (N, FN, OH, OW).
    """
    FN, _, FH, FW = W.shape
    OH, OW = _output_hw(x.shape, FH, FW, stride, pad)
    x_pad = _pad(x, pad)
    out = np.zeros((x.shape[0], FN, OH, OW), dtype=np.result_type(x, W))
    for n in range(x.shape[0]):
        for f in range(FN):
            for i in range(OH):
                for j in range(OW):
                    patch = x_pad[n, :, i * stride:i * stride + FH, j * stride:j * stride + FW]
                    out[n, f, i, j] = np.sum(patch * W[f]) + b[f]
    return out


def conv_backward_naive(dout, x, W, stride=1, pad=0):
    """Gradients of ``conv_forward_naive`` by the same loops: each output number sends
    dout * W back to its patch of x and dout * patch to W (slow; for teaching).

    dout: (N, FN, OH, OW), x: (N, C, H, W), W: (FN, C, FH, FW) -> (dx, dW, db) shaped like
    x, W and (FN,).
    """
    FN, _, FH, FW = W.shape
    N, _, H, W_in = x.shape
    x_pad = _pad(x, pad)
    dx_pad, dW = np.zeros_like(x_pad), np.zeros_like(W)
    for n in range(N):
        for f in range(FN):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + FH)
                    cols = slice(j * stride, j * stride + FW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * W[f]
                    dW[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad:pad + H, pad:pad + W_in], dW, dout.sum(axis=(0, 2, 3))


def max_pool_forward_naive(x, pool_h, pool_w, stride=None, pad=0):
    """Max pooling by its definition, one window at a time (slow; for teaching).

    x: (N, C, H, W) -> out: (N, C, OH, OW); padding counts as -inf, as in PyTorch.
    """
    stride = _pool_stride(pool_h, pool_w, stride)
    OH, OW = _output_hw(x.shape, pool_h, pool_w, stride, pad)
    x_pad = _pad(x, pad, -np.inf)
    out = np.zeros(x.shape[:2] + (OH, OW), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(OH):
                for j in range(OW):
                    out[n, c, i, j] = x_pad[n, c, i * stride:i * stride + pool_h,
                                            j * stride:j * stride + pool_w].max()
    return out


# ---------------------------------------------------------------- im2col and col2im


def _windows(x, fh, fw, stride, pad, fill=0.0):
    """All fh x fw windows of the padded x as a view (no copy): (N, C, OH, OW, fh, fw).

    windows[n, c, i, j] is the patch x_pad[n, c, i*stride : i*stride+fh, j*stride : j*stride+fw].
    """
    _output_hw(x.shape, fh, fw, stride, pad)  # raises when the sizes do not fit
    windows = sliding_window_view(_pad(x, pad, fill), (fh, fw), axis=(2, 3))
    return windows[:, :, ::stride, ::stride]


def im2col(x, fh, fw, stride=1, pad=0):
    """Unfold every fh x fw patch of x into one row: x (N, C, H, W) -> col (N*OH*OW, C*fh*fw).

    col[(n*OH + i)*OW + j, (c*fh + p)*fw + q] = x_pad[n, c, i*stride + p, j*stride + q],
    so a convolution is col @ W.reshape(FN, -1).T. Built from a strided view of x: no Python
    loop over positions, the reshape makes the one copy.
    """
    N, C = x.shape[:2]
    OH, OW = _output_hw(x.shape, fh, fw, stride, pad)
    windows = _windows(x, fh, fw, stride, pad)  # (N, C, OH, OW, fh, fw)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * fh * fw)


def _fold(window_grad, x_shape, fh, fw, stride, pad, dtype):
    """Sum gradients of the fh x fw windows back onto the (N, C, H, W) image.

    window_grad(p, q) gives, as an (N, C, OH, OW) array, the gradient of tap (p, q) of every
    window; it lands on x_pad[:, :, p + i*stride, q + j*stride]. One loop over the fh*fw taps
    (not over pixels): each step is one strided `+=` over the whole batch, and overlapping
    windows add up. Faster than np.add.at with index arrays (see bench/conv.py).
    """
    N, C, H, W = x_shape
    OH, OW = _output_hw(x_shape, fh, fw, stride, pad)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dtype)
    for p in range(fh):
        for q in range(fw):
            dx_pad[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride] += window_grad(p, q)
    return dx_pad[:, :, pad:pad + H, pad:pad + W]


def col2im(col, x_shape, fh, fw, stride=1, pad=0):
    """The ADJOINT of ``im2col`` (not its inverse): col (N*OH*OW, C*fh*fw) -> (N, C, H, W).

    Every entry of col is added to the pixel im2col copied it from, so pixels that several
    patches share receive the sum: <im2col(x), y> = <x, col2im(y)> for all x, y. This is
    exactly the backward pass of im2col. col2im(im2col(x)) is x times the number of patches
    covering each pixel, not x. Padding rows are dropped.
    """
    N, C = x_shape[:2]
    OH, OW = _output_hw(x_shape, fh, fw, stride, pad)
    patches = col.reshape(N, OH, OW, C, fh, fw)
    return _fold(lambda p, q: patches[..., p, q].transpose(0, 3, 1, 2),
                 x_shape, fh, fw, stride, pad, col.dtype)


# ---------------------------------------------------------------- layers


class Convolution:
    """Convolution layer: out[n, f] = sum over c of (W[f, c] cross-correlated with x[n, c]) + b[f].

    W: (FN, C, FH, FW), b: (FN,), kept by reference so an optimizer's in-place update reaches
    the layer. forward x: (N, C, H, W) -> out: (N, FN, OH, OW). backward dout: (N, FN, OH, OW)
    -> dx: (N, C, H, W); sets dW (FN, C, FH, FW) and db (FN,). Caches col = im2col(x).

    The lecture's algebra, with W2 = W.reshape(FN, -1) and dout2 = dout as an (N*OH*OW, FN)
    matrix: out2 = col @ W2.T + b, dW2 = dout2.T @ col, db = the column sums of dout2,
    dcol = dout2 @ W2 and dx = col2im(dcol). ``labutils.conv_engine.FastConvolution`` computes
    the same numbers faster (threads, reused buffers, BLAS-friendly orientation).
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.x_shape = self.col = self.dW = self.db = None

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, FN, OH, OW)."""
        FN, _, FH, FW = self.W.shape
        N = x.shape[0]
        OH, OW = _output_hw(x.shape, FH, FW, self.stride, self.pad)
        self.x_shape = x.shape
        self.col = im2col(x, FH, FW, self.stride, self.pad)  # (N*OH*OW, C*FH*FW)
        out2 = self.col @ self.W.reshape(FN, -1).T + self.b  # (N*OH*OW, FN)
        return out2.reshape(N, OH, OW, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        """dout: (N, FN, OH, OW) -> dx: (N, C, H, W); sets dW and db. dout is left alone."""
        FN, _, FH, FW = self.W.shape
        dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, FN)  # (N*OH*OW, FN)
        self.dW = (dout2.T @ self.col).reshape(self.W.shape)
        self.db = dout2.sum(axis=0)
        dcol = dout2 @ self.W.reshape(FN, -1)  # (N*OH*OW, C*FH*FW)
        return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)


def _pool_stride(pool_h, pool_w, stride):
    """The stride a pool uses: the given one, else the pool size (non-overlapping windows)."""
    if stride is not None:
        return stride
    if pool_h != pool_w:
        raise ValueError(f"a {pool_h} x {pool_w} pool has no single default stride; pass stride")
    return pool_h


class _Pooling:
    """What max and average pooling share: sizes, the window view and the shape checks."""

    fill = 0.0  # value of the padding

    def __init__(self, pool_h, pool_w, stride=None, pad=0):
        if 2 * pad > min(pool_h, pool_w):
            raise ValueError(f"pad {pad} must be at most half the pool {pool_h} x {pool_w} "
                             f"(as in PyTorch), or some windows would hold only padding")
        self.pool_h, self.pool_w, self.pad = pool_h, pool_w, pad
        self.stride = _pool_stride(pool_h, pool_w, stride)
        self.x_shape = None

    def _windows(self, x):
        self.x_shape = x.shape
        return _windows(x, self.pool_h, self.pool_w, self.stride, self.pad, self.fill)

    def _taps(self):
        """(k, p, q) for every tap (p, q) of the window, k = p*pool_w + q, in row-major order."""
        return [(p * self.pool_w + q, p, q)
                for p in range(self.pool_h) for q in range(self.pool_w)]

    def _fold(self, window_grad, dtype):
        return _fold(window_grad, self.x_shape, self.pool_h, self.pool_w, self.stride,
                     self.pad, dtype)


class MaxPooling(_Pooling):
    """Max pooling: out[n, c, i, j] = max of the pool_h x pool_w window at (i*stride, j*stride).

    forward x: (N, C, H, W) float -> out: (N, C, OH, OW); backward dout: (N, C, OH, OW) ->
    dx: (N, C, H, W). stride defaults to the pool size. Padding counts as -inf (as in PyTorch),
    so it is never the maximum. Ties: the whole gradient of a window goes to the FIRST maximum
    in row-major window order, as np.argmax and PyTorch's CPU max_pool2d choose it. A NaN in a
    window makes its output NaN, as in PyTorch, but its gradient is not defined here.
    """

    fill = -np.inf

    def __init__(self, pool_h, pool_w, stride=None, pad=0):
        super().__init__(pool_h, pool_w, stride, pad)
        self.arg_max = None

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, OH, OW); remembers which tap won each window."""
        windows = self._windows(x)
        out = windows[..., 0, 0].copy()
        self.arg_max = np.zeros(out.shape, dtype=np.int8 if len(self._taps()) < 128 else np.intp)
        for k, p, q in self._taps()[1:]:
            tap = windows[..., p, q]
            larger = tap > out  # strictly: an equal later tap does not take over
            # arithmetic rather than np.where or a boolean mask: random masks make those
            # branchy and ~10x slower
            self.arg_max += larger * (k - self.arg_max)
            np.maximum(out, tap, out=out)
        return out

    def backward(self, dout):
        """dout: (N, C, OH, OW) -> dx: (N, C, H, W); only each window's winner gets dout."""
        return self._fold(lambda p, q: dout * (self.arg_max == p * self.pool_w + q), dout.dtype)


class AveragePooling(_Pooling):
    """Average pooling: out[n, c, i, j] = mean of the pool_h x pool_w window.

    forward x: (N, C, H, W) -> out: (N, C, OH, OW); backward dout: (N, C, OH, OW) -> dx:
    (N, C, H, W), each tap of a window getting dout / (pool_h * pool_w). Padding counts as 0
    and is included in the count, as PyTorch's avg_pool2d(count_include_pad=True) does.
    """

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, OH, OW)."""
        windows = self._windows(x)
        out = windows[..., 0, 0].copy()
        for _, p, q in self._taps()[1:]:  # summing tap by tap: ~30x faster than .mean(axis=(4, 5))
            out += windows[..., p, q]
        return out / (self.pool_h * self.pool_w)

    def backward(self, dout):
        """dout: (N, C, OH, OW) -> dx: (N, C, H, W)."""
        share = dout / (self.pool_h * self.pool_w)
        return self._fold(lambda p, q: share, share.dtype)


# ---------------------------------------------------------------- the lecture's network


class SimpleConvNet:
    """Conv - ReLU - MaxPool(2x2, stride 2) - Affine - ReLU - Affine - SoftmaxWithLoss.

    ``layers`` holds the first three in the order Conv, MaxPool, ReLU: max pooling and ReLU
    commute. The largest of four numbers, clipped at 0, is the largest of the four clipped
    numbers, and backward the gradient reaches the same input (the window's first maximum when
    that maximum is positive, no input otherwise). Pooling first clips a quarter as many numbers;
    tests/test_conv_engine.py checks that both orders give the same loss and gradients.

    input_dim: (C, H, W) of one image. params: {'W1': (filter_num, C, filter_size, filter_size),
    'b1': (filter_num,), 'W2': (filter_num*PH*PW, hidden_size), 'b2': (hidden_size,),
    'W3': (hidden_size, output_size), 'b3': (output_size,)} in `dtype`, shared by reference with
    the layers so that ``optimizer.update(net.params, grads)`` trains the network.
    weight_init_std: a number, "he" or "xavier" (see ``labutils.backprop.init_std``).
    Use dtype=np.float64 to check gradients, float32 (the default) to train.
    """

    def __init__(self, input_dim=(1, 28, 28), filter_num=30, filter_size=5, stride=1, pad=0,
                 hidden_size=100, output_size=10, weight_init_std=0.01, seed=0,
                 dtype=np.float32):
        C, H, W = input_dim
        OH, OW = _output_hw((1, C, H, W), filter_size, filter_size, stride, pad)
        pooled_size = filter_num * conv_output_size(OH, 2, 2) * conv_output_size(OW, 2, 2)
        rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)

        def weights(shape, fan_in):
            std = init_std(weight_init_std, fan_in)
            return (std * rng.standard_normal(shape)).astype(self.dtype)

        self.params = {
            "W1": weights((filter_num, C, filter_size, filter_size), C * filter_size ** 2),
            "b1": np.zeros(filter_num, dtype=self.dtype),
            "W2": weights((pooled_size, hidden_size), pooled_size),
            "b2": np.zeros(hidden_size, dtype=self.dtype),
            "W3": weights((hidden_size, output_size), hidden_size),
            "b3": np.zeros(output_size, dtype=self.dtype),
        }
        # the tuned engine computes what Convolution and MaxPooling do, faster
        # (tests/test_conv_engine.py); the first layer has no use for the images' gradient
        from labutils.conv_engine import FastConvolution, FastMaxPooling, keep_freed_memory

        keep_freed_memory()  # a step's arrays of many MB: reuse memory, not fresh pages

        p = self.params
        first = FastConvolution(p["W1"], p["b1"], stride, pad)
        first.input_grad = False
        self.layers = [first, FastMaxPooling(2, 2, stride=2), ReLU(),
                       Affine(p["W2"], p["b2"]), ReLU(),
                       Affine(p["W3"], p["b3"])]
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        """x: (N, C, H, W) -> scores (N, output_size), computed in the network's dtype."""
        x = np.asarray(x, dtype=self.dtype)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Cross-entropy loss for labels t (N,) or one-hot t (N, output_size); a float."""
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=100):
        """Fraction of the N samples classified right, predicted batch_size at a time."""
        t = np.asarray(t)
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        correct = 0
        for start in range(0, len(x), batch_size):
            scores = self.predict(x[start:start + batch_size])
            correct += int(np.sum(scores.argmax(axis=1) == labels[start:start + batch_size]))
        return correct / len(x)

    def gradient(self, x, t):
        """Gradients of ``loss`` by backpropagation: a dict with the keys and shapes of params."""
        self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        trainable = [layer for layer in self.layers if hasattr(layer, "dW")]
        grads = {}
        for i, layer in enumerate(trainable, start=1):
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return grads


# ---------------------------------------------------------------- the lecture's examples
# The worked example and the filters of course/03_conv.ipynb; labutils.plots draws them.

# A 6x6 grayscale "5" (1 = ink): the upper stroke runs down column 1, the lower one down
# column 4, so each falls in the middle column of one 3x3 block of a stride-3 convolution.
DIGIT_FIVE = np.array([[0, 1, 1, 1, 1, 1],
                       [0, 1, 0, 0, 0, 0],
                       [0, 1, 1, 1, 1, 0],
                       [0, 0, 0, 0, 1, 0],
                       [0, 0, 0, 0, 1, 0],
                       [0, 1, 1, 1, 1, 0]], dtype=float)

# A 3x3 vertical bar: the product-sum with a patch counts the ink in the patch's middle column.
VERTICAL_BAR = np.array([[0, 1, 0],
                         [0, 1, 0],
                         [0, 1, 0]], dtype=float)


def gabor_kernel(size, wavelength, theta, sigma=None, gamma=0.5, psi=0.0):
    """A size x size Gabor filter: a Gaussian envelope times a cosine wave.

    g(x, y) = exp(-(u^2 + gamma^2 v^2) / (2 sigma^2)) cos(2 pi u / wavelength + psi) with
    u = x cos(theta) + y sin(theta), v = -x sin(theta) + y cos(theta), and (x, y) measured from
    the centre pixel (x to the right, y downwards). The stripes run perpendicular to the
    direction theta (radians), so theta = 0 gives vertical stripes, which answer to vertical
    edges and lines. sigma defaults to wavelength / 2; gamma < 1 stretches the envelope along
    the stripes. Returns a float64 array (size, size); its mean is not removed.
    """
    if sigma is None:
        sigma = wavelength / 2
    half = (size - 1) / 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1]
    u = x * np.cos(theta) + y * np.sin(theta)
    v = -x * np.sin(theta) + y * np.cos(theta)
    envelope = np.exp(-(u ** 2 + gamma ** 2 * v ** 2) / (2 * sigma ** 2))
    return envelope * np.cos(2 * np.pi * u / wavelength + psi)
