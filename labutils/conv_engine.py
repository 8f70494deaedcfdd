"""The tuned convolution: ``labutils.conv.Convolution``'s numbers, computed fast (float32).

``FastConvolution`` is a drop-in ``Convolution`` (same constructor, ``forward``/``backward``,
``dW``/``db``); tests/test_conv_engine.py checks that both give the same out, dx, dW and db.
Read ``labutils.conv`` for the idea; this module is what ``SimpleConvNet``, the lecture's timing
section and bench/conv.py run. What makes it fast, each measured in bench/conv.py:

* each product is written in the orientation BLAS runs fastest (out.T = W2 @ col.T is about
  twice as fast as col @ W2.T here), and `out` is returned as a transposed view;
* the big work arrays (col.T, dout2.T, dcol) are kept between calls and overwritten: fresh
  arrays of many MB cost page faults and cold caches that take as long as the arithmetic;
* a large batch is cut into one part per CPU core and the parts run in threads
  (``labutils.parallel``): the copies of im2col and col2im then use every core too, not only
  the matrix products. dW and db add up the parts' sums;
* dx is computed a chunk of images at a time, so that a chunk's dcol is still in the cache when
  col2im reads it (``_input_gradient``);
* a network's first layer needs no dx (nothing comes before it): ``input_grad = False``
  skips it, as PyTorch skips the gradient of an input that does not require one.

``FastMaxPooling`` is ``labutils.conv.MaxPooling`` run on one part of the batch per core.
These last two are not in bench/conv.py: together they saved about 6 % of a SimpleConvNet
gradient step in one A/B measurement on a busy machine, and nothing visible in
bench/simpleconvnet_mnist.py's epoch times.
"""

import numpy as np

from labutils import parallel
from labutils.conv import Convolution, MaxPooling, _output_hw, _windows


def _batch_parts(N, nbytes, threads, min_bytes):
    """(key, slice) of a batch of N to run side by side: one part per core (or `threads`),
    one part in all when the work (nbytes) is below min_bytes."""
    threads = parallel.cores() if threads is None else threads
    return list(enumerate(parallel.split(N, threads if nbytes >= min_bytes else 1)))


def _copy_patches(x, fh, fw, stride, pad, target):
    """Copy the patches of x into target[c, p, q, n, i, j]: im2col transposed, as 6 axes.

    With the taps (c, p, q) outermost, each copied run is a row of output positions.
    """
    windows = _windows(x, fh, fw, stride, pad)  # (N, C, OH, OW, fh, fw)
    np.copyto(target, windows.transpose(1, 4, 5, 0, 2, 3))


def _fold_in_memory_order(window_grad, x_shape, fh, fw, stride, pad, dtype):
    """``labutils.conv._fold`` with the sum kept in the memory order of window_grad's arrays.

    Every `+=` then walks both arrays in step (the result may be a transposed view), which is
    what makes col2im of a transposed dcol as fast as of a C-ordered one.
    """
    N, C, H, W = x_shape
    OH, OW = _output_hw(x_shape, fh, fw, stride, pad)
    first = window_grad(0, 0)
    # axes of window_grad's arrays from the slowest to the fastest in memory
    order = np.argsort([-step for step in first.strides], kind="stable")
    padded_shape = np.array([N, C, H + 2 * pad, W + 2 * pad])
    dx_pad = np.zeros(padded_shape[order], dtype=dtype).transpose(np.argsort(order))
    for p in range(fh):
        for q in range(fw):
            grad = first if p == q == 0 else window_grad(p, q)
            dx_pad[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride] += grad
    return dx_pad[:, :, pad:pad + H, pad:pad + W]


class FastConvolution(Convolution):
    """``Convolution`` with threads, reused buffers and chunked col2im; the same numbers.

    W: (FN, C, FH, FW), b: (FN,), kept by reference. forward x: (N, C, H, W) -> out:
    (N, FN, OH, OW), a transposed view; backward dout: (N, FN, OH, OW) -> dx: (N, C, H, W);
    sets dW (FN, C, FH, FW) and db (FN,). col (N*OH*OW, C*FH*FW) is a view of a reused buffer.
    """

    CHUNK_BYTES = 4 * 2**20  # dcol of one chunk of images stays in the CPU's cache
    PARALLEL_BYTES = 2**20  # below this size of col, threads cost more than they save
    threads = None  # how many parts a large batch is cut into; None: one per core
    input_grad = True  # False: backward returns None instead of dx (a network's first layer)

    def __init__(self, W, b, stride=1, pad=0):
        super().__init__(W, b, stride, pad)
        self._buffers = {}

    def _buffer(self, name, shape, dtype):
        """The work array `name`, reused while its shape and dtype stay the same."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._buffers[name] = np.empty(shape, dtype=dtype)
        return buffer

    def _parts(self, N):
        """(key, slice) of the batch to run side by side: one part when the work is small."""
        return _batch_parts(N, self.col.nbytes, self.threads, self.PARALLEL_BYTES)

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, FN, OH, OW)."""
        FN, C, FH, FW = self.W.shape
        N = x.shape[0]
        OH, OW = _output_hw(x.shape, FH, FW, self.stride, self.pad)
        self.x_shape = x.shape
        col_t = self._buffer("col.T", (C * FH * FW, N * OH * OW), x.dtype)
        self.col = col_t.T  # (N*OH*OW, C*FH*FW)
        patches = col_t.reshape(C, FH, FW, N, OH, OW)
        out_t = np.empty((FN, N * OH * OW), dtype=np.result_type(x, self.W))
        W2 = self.W.reshape(FN, -1)

        def forward_part(part):
            _, images = part
            _copy_patches(x[images], FH, FW, self.stride, self.pad, patches[:, :, :, images])
            columns = slice(images.start * OH * OW, images.stop * OH * OW)
            np.matmul(W2, col_t[:, columns], out=out_t[:, columns])

        parallel.map_parallel(forward_part, self._parts(N))
        out_t += self.b[:, None]
        return out_t.reshape(FN, N, OH, OW).transpose(1, 0, 2, 3)

    def backward(self, dout):
        """dout: (N, FN, OH, OW) -> dx: (N, C, H, W) (None without input_grad); sets dW and db.
        dout is left alone."""
        N, FN, OH, OW = dout.shape
        dout_t = self._buffer("dout2.T", (FN, N * OH * OW), dout.dtype)
        dout_4d = dout_t.reshape(FN, N, OH, OW)
        col_t = self.col.T
        dx = np.empty(self.x_shape, dtype=np.result_type(dout, self.W)) if self.input_grad else None

        def backward_part(part):
            key, images = part
            np.copyto(dout_4d[:, images], dout[images].transpose(1, 0, 2, 3))
            columns = slice(images.start * OH * OW, images.stop * OH * OW)
            part_t = dout_t[:, columns]
            dW2 = (col_t[:, columns] @ part_t.T).T  # (FN, C*FH*FW)
            if dx is not None:
                self._input_gradient(dout[images], part_t, dx[images], key)
            return dW2, part_t.sum(axis=1)

        sums = parallel.map_parallel(backward_part, self._parts(N))
        self.dW = sum(dW2 for dW2, _ in sums).reshape(self.W.shape)
        self.db = sum(db for _, db in sums)
        return dx

    def _input_gradient(self, dout, dout_t, dx, key):
        """dx = col2im(dout2 @ W2), a chunk of images at a time (the tests check it is the same).

        dout (n, FN, OH, OW) and dout_t (FN, n*OH*OW) are the same numbers; dx (n, C, H, W) is
        filled in. key names this part's work arrays. A chunk's dcol (CHUNK_BYTES) is still in
        the cache when the fold reads it. When dcol has more rows than dout (C*FH*FW > FN),
        the fold is the bigger job and a chunk's columns are put in (i, j, n) order instead of
        (n, i, j): then every `+=` of the fold runs over OW * chunk contiguous numbers instead
        of OW (about twice as fast), at the price of a transposed copy of dout.
        """
        FN, C, FH, FW = self.W.shape
        N, _, OH, OW = dout.shape
        W2_t = self.W.reshape(FN, -1).T  # (C*FH*FW, FN)
        image_fastest = W2_t.shape[0] > FN
        chunk = min(N, max(1, self.CHUNK_BYTES // (W2_t.shape[0] * OH * OW * dout.itemsize)))
        dcol_buffer = self._buffer(("dcol", key), (W2_t.shape[0], chunk * OH * OW), dx.dtype)
        if image_fastest:
            part_buffer = self._buffer(("dout part", key), (FN, chunk * OH * OW), dout.dtype)
        for start in range(0, N, chunk):
            n = min(chunk, N - start)
            columns = slice(0, n * OH * OW)
            if image_fastest:
                part = part_buffer[:, columns]
                np.copyto(part.reshape(FN, OH, OW, n), dout[start:start + n].transpose(1, 2, 3, 0))
                dcol = np.matmul(W2_t, part, out=dcol_buffer[:, columns])
                dcol = dcol.reshape(C, FH, FW, OH, OW, n).transpose(0, 1, 2, 5, 3, 4)
            else:
                part = dout_t[:, start * OH * OW:(start + n) * OH * OW]
                dcol = np.matmul(W2_t, part, out=dcol_buffer[:, columns])
                dcol = dcol.reshape(C, FH, FW, n, OH, OW)
            # dcol[c, p, q, n, i, j]: gradient of tap (p, q) of channel c in window (i, j)
            dx[start:start + n] = _fold_in_memory_order(
                lambda p, q: dcol[:, p, q].transpose(1, 0, 2, 3), (n,) + dx.shape[1:],
                FH, FW, self.stride, self.pad, dx.dtype)


class FastMaxPooling(MaxPooling):
    """``MaxPooling`` on one part of the batch per core (its loops are NumPy calls that let
    other threads run); the same numbers. Shapes as ``MaxPooling``."""

    PARALLEL_BYTES = 2**20  # below this size of x, threads cost more than they save
    threads = None  # how many parts a large batch is cut into; None: one per core

    def __init__(self, pool_h, pool_w, stride=None, pad=0):
        super().__init__(pool_h, pool_w, stride, pad)
        self._pools = []

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, OH, OW)."""
        self.x_shape = x.shape
        parts = _batch_parts(x.shape[0], x.nbytes, self.threads, self.PARALLEL_BYTES)
        self._pools = [(images, MaxPooling(self.pool_h, self.pool_w, self.stride, self.pad))
                       for _, images in parts]
        outs = parallel.map_parallel(lambda job: job[1].forward(x[job[0]]), self._pools)
        self.arg_max = np.concatenate([pool.arg_max for _, pool in self._pools])
        return np.concatenate(outs)

    def backward(self, dout):
        """dout: (N, C, OH, OW) -> dx: (N, C, H, W)."""
        dx = np.empty(self.x_shape, dtype=dout.dtype)

        def backward_part(job):
            images, pool = job
            dx[images] = pool.backward(dout[images])

        parallel.map_parallel(backward_part, self._pools)
        return dx
