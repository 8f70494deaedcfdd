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

``FastMaxPooling`` is ``labutils.conv.MaxPooling`` taken one axis at a time when its windows
tile the image. With it, and with ``SimpleConvNet`` pooling before its ReLU (the two commute),
pooling and ReLU take about two fifths of the time that a full-size ReLU and then the reference
pooling run in threads took in a training step (9.7-10.4 ms against 25.7 ms).
``keep_freed_memory`` stops the arrays that a step makes and frees from being handed back to the
kernel and faulted in again. bench/simpleconvnet_mnist.py times whole epochs.
"""

import ctypes
import ctypes.util

import numpy as np

from labutils import parallel
from labutils.conv import Convolution, MaxPooling, _output_hw, _windows


def keep_freed_memory(mmap_threshold=32 * 2**20, trim_threshold=256 * 2**20):
    """Ask glibc's malloc to keep freed memory for the next arrays instead of handing it back.

    A training step makes and frees arrays of several MB. With glibc's defaults such arrays
    come fresh from the kernel each time, and every page is faulted in and zeroed again: about
    1,150 page faults per SimpleConvNet step of 100 images. In one A/B run of 600 steps the
    process had 828,405 faults without this call and 138,347 with it (mostly from loading the
    data), and the median step time was about a sixth lower. Arrays below mmap_threshold come from
    the heap, and up to trim_threshold bytes of freed heap stay in the process. Returns False
    where the C library is not glibc (macOS, Windows): nothing changes there.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        mallopt(M_TRIM_THRESHOLD, trim_threshold))


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


def _first_max(taps):
    """The elementwise max of two or more equally shaped taps, and the index of the FIRST tap
    that holds it (int8), as MaxPooling breaks ties. Arithmetic instead of masked writes: with
    np.copyto(where=...) on the random masks the pooling's forward pass took 3.7x as long."""
    winner = np.greater(taps[1], taps[0]).view(np.int8)  # 1 where the second is strictly larger
    best = np.maximum(taps[0], taps[1])
    for index, tap in enumerate(taps[2:], start=2):
        winner += (tap > best) * (np.int8(index) - winner)
        np.maximum(best, tap, out=best)
    return best, winner


class FastMaxPooling(MaxPooling):
    """``MaxPooling``'s numbers, ties included; faster when the windows tile the image.

    Tiling means stride = pool size and no padding (the network's 2 x 2 pool). Then the max of a
    k x k window is taken one axis at a time: first over each run of k neighbours in a row, then
    over k neighbouring rows of those maxima. Taking the first maximum in each step picks the
    first maximum in row-major window order, as MaxPooling does. Each step is a handful of
    whole-array operations on k strided views, not k*k, and every array keeps the memory order
    of x (a convolution's output is a transposed view): mixing orders made an operation about
    3.5x slower. Other pools run MaxPooling's code. Shapes as ``MaxPooling``; no ``arg_max``.
    """

    def _tiles(self):
        # 2 to 127 taps per axis: one tap is no pooling, and the winners are kept as int8
        return self.pad == 0 and self.pool_h == self.pool_w == self.stride and 1 < self.stride < 128

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, OH, OW)."""
        if not self._tiles():
            return super().forward(x)
        k = self.stride
        _output_hw(x.shape, k, k, k, 0)  # refuses sizes the windows do not tile exactly
        self.x_shape, self._x = x.shape, x  # x for the memory order of dx
        self._row_max, self._column_winner = _first_max([x[..., q::k] for q in range(k)])
        out, self._row_winner = _first_max([self._row_max[:, :, p::k] for p in range(k)])
        return out

    def backward(self, dout):
        """dout: (N, C, OH, OW) -> dx: (N, C, H, W), in the memory order of forward's x."""
        if not self._tiles():
            return super().backward(dout)
        k = self.stride
        dout = _in_order_of(dout, self._row_winner)
        d_row_max = np.empty_like(self._row_max, dtype=dout.dtype)
        for p in range(k):
            np.multiply(dout, self._row_winner == p, out=d_row_max[:, :, p::k])
        dx = np.empty_like(self._x, dtype=dout.dtype)  # every pixel is in exactly one window
        for q in range(k):
            np.multiply(d_row_max, self._column_winner == q, out=dx[..., q::k])
        return dx


def _in_order_of(a, like):
    """a's numbers laid out in memory like `like` (same shape): a itself when it already is,
    else a copy. Element-wise operations between arrays of different orders are slow."""
    ordered = np.empty_like(like, dtype=a.dtype)
    if ordered.strides == a.strides:
        return a
    np.copyto(ordered, a)
    return ordered
