"""How fast is the tuned convolution? Forward + backward of one layer, float32, against PyTorch.

    python bench/conv.py            # the full table (about a minute)
    python bench/conv.py --quick    # a smoke run: few repetitions, naive loops on 1 image

Columns: labutils.conv_engine.FastConvolution (im2col + matrix products + col2im, tested equal
to the reference labutils.conv.Convolution), the floor of the im2col method (its three matrix
products alone: out.T = W2 @ col.T, dW2.T = col.T @ dout2, dcol.T = W2.T @ dout2.T, in the
engine's shapes, orientation and parts, on buffers made beforehand: no copy, no col2im),
torch.nn.functional.conv2d with autograd (dx, dW, db), and conv_forward_naive +
conv_backward_naive (Python loops). lab/floor says how close the engine is to its method's
limit; floor/torch how close the method itself can come to PyTorch. Each is the best of
runs taken in alternating blocks (see interleaved_best): other processes on the machine only
ever add time, so the minimum is the steadiest estimate.
The naive loops are timed on a few images and scaled up to the full batch (linear in N).
Leave torch at its default threads (2 here); numpy's OpenBLAS uses the same cores, and
the engine runs one part of the batch per core (labutils.parallel).
Targets (issue #16): labutils/torch <= 1.0 on the first shape, 1.75 on the second (its floor,
the three GEMMs alone, is about 1.0-1.1x torch) and 1.5 on the third; naive/labutils >= 100.
A second table times three ways of writing col2im.
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from labutils import conv, parallel
from labutils.conv_engine import FastConvolution

# name, (N, C, H, W), (FN, FH, FW), stride, pad, target for labutils/torch
SHAPES = [
    ("N100 C1 28x28, 30 5x5", (100, 1, 28, 28), (30, 5, 5), 1, 0, 1.0),
    ("N64 C32 14x14, 64 3x3 p1", (64, 32, 14, 14), (64, 3, 3), 1, 1, 1.75),
    ("N32 C64 32x32, 128 3x3 p1", (32, 64, 32, 32), (128, 3, 3), 1, 1, 1.5),
]


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved_best(fns, repeats, rounds=5):
    """Best (minimum) seconds of each function over `rounds` rounds of `repeats` calls.

    The functions take turns by blocks, not call by call: OpenBLAS's and PyTorch's worker
    threads keep spinning for a while after each call, and on a 2-core machine alternating
    single calls makes each library run against the other's spinning threads (both come out
    2-10x slower). A pause and a warm-up call start every block; rounds spread outside load
    over all the functions alike.
    """
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, t in zip(fns, times):
            time.sleep(0.3)
            fn()
            t.extend(seconds(fn) for _ in range(repeats))
    return [float(np.min(t)) for t in times]


def problem(x_shape, w_shape, stride, pad, seed=0):
    """float32 x, W, b and an upstream gradient dout of the output's shape."""
    rng = np.random.default_rng(seed)
    FN, FH, FW = w_shape
    x = rng.standard_normal(x_shape, dtype=np.float32)
    W = 0.1 * rng.standard_normal((FN, x_shape[1], FH, FW), dtype=np.float32)
    b = rng.standard_normal(FN, dtype=np.float32)
    OH = conv.conv_output_size(x_shape[2], FH, stride, pad)
    OW = conv.conv_output_size(x_shape[3], FW, stride, pad)
    dout = rng.standard_normal((x_shape[0], FN, OH, OW), dtype=np.float32)
    return x, W, b, dout


def labutils_step(x, W, b, dout, stride, pad):
    layer = FastConvolution(W, b, stride, pad)

    def step():
        layer.forward(x)
        return layer.backward(dout)
    return step


def floor_step(x, W, b, dout, stride, pad):
    """The three matrix products of the im2col method alone, as the engine runs them: the same
    operand shapes and orientation, one part of the batch per core with BLAS on one thread in
    each, results written into arrays made beforehand."""
    layer = FastConvolution(W, b, stride, pad)
    layer.forward(x)  # makes col.T and tells how the engine cuts the batch
    col_t, parts = layer.col.T, layer._parts(x.shape[0])
    FN, K, M = W.shape[0], col_t.shape[0], col_t.shape[1]
    W2 = W.reshape(FN, K)
    W2_t = W2.T
    dout_t = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(FN, M)
    out_t, dcol = np.empty((FN, M), np.float32), np.empty((K, M), np.float32)
    dW2_t = [np.empty((K, FN), np.float32) for _ in parts]
    per_image = M // x.shape[0]

    def products(part):
        key, images = part
        columns = slice(images.start * per_image, images.stop * per_image)
        np.matmul(W2, col_t[:, columns], out=out_t[:, columns])  # forward
        np.matmul(col_t[:, columns], dout_t[:, columns].T, out=dW2_t[key])  # dW
        np.matmul(W2_t, dout_t[:, columns], out=dcol[:, columns])  # dcol

    return lambda: parallel.map_parallel(products, parts)


def torch_step(x, W, b, dout, stride, pad):
    xt, Wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, W, b))
    dout_t = torch.from_numpy(dout)

    def step():
        xt.grad = Wt.grad = bt.grad = None
        F.conv2d(xt, Wt, bt, stride=stride, padding=pad).backward(dout_t)
        return xt.grad
    return step


def naive_seconds(x, W, b, dout, stride, pad, images):
    """Seconds of the naive forward + backward on `images` images, scaled to the full batch."""
    xs, douts = x[:images], dout[:images]
    spent = seconds(lambda: (conv.conv_forward_naive(xs, W, b, stride, pad),
                             conv.conv_backward_naive(douts, xs, W, stride, pad)))
    return spent * x.shape[0] / images


def conv_table(repeats, naive_images):
    print(f"Convolution forward + backward, float32, torch threads = {torch.get_num_threads()}, "
          f"labutils parts = {parallel.cores()}; naive timed on {naive_images} image(s) and "
          f"scaled to N")
    header = (f"{'shape':<27}{'labutils ms':>12}{'floor ms':>10}{'torch ms':>10}{'naive ms':>10}"
              f"{'lab/torch':>10}{'target':>11}{'floor/torch':>12}{'lab/floor':>10}"
              f"{'naive/lab':>10}")
    print(header)
    print("-" * len(header))
    for name, x_shape, w_shape, stride, pad, target in SHAPES:
        args = (*problem(x_shape, w_shape, stride, pad), stride, pad)
        np.testing.assert_allclose(labutils_step(*args)(), torch_step(*args)().numpy(),
                                   rtol=1e-3, atol=1e-3)  # timing the same computation
        lab, floor, ref = interleaved_best(
            [labutils_step(*args), floor_step(*args), torch_step(*args)], repeats)
        naive = naive_seconds(*args, images=naive_images)
        verdict = "ok" if lab / ref <= target else "MISS"
        print(f"{name:<27}{lab * 1e3:>12.2f}{floor * 1e3:>10.2f}{ref * 1e3:>10.2f}"
              f"{naive * 1e3:>10.0f}{lab / ref:>10.2f}{'<=' + str(target) + ' ' + verdict:>11}"
              f"{floor / ref:>12.2f}{lab / floor:>10.2f}{naive / lab:>10.0f}")


def col2im_add_at(col, x_shape, fh, fw, stride, pad):
    """col2im with np.add.at on precomputed flat pixel indices (the 'obvious' vectorisation)."""
    index = pixel_index(x_shape, fh, fw, stride, pad)
    N, C, H, W = x_shape
    dx_pad, values = np.zeros(N * C * (H + 2 * pad) * (W + 2 * pad), col.dtype), col.ravel()
    return lambda: np.add.at(dx_pad, index, values)


def col2im_bincount(col, x_shape, fh, fw, stride, pad):
    """col2im with np.bincount(weights=...) on the same indices (sums in float64)."""
    index = pixel_index(x_shape, fh, fw, stride, pad)
    N, C, H, W = x_shape
    size = N * C * (H + 2 * pad) * (W + 2 * pad)
    values = col.ravel()
    return lambda: np.bincount(index, weights=values, minlength=size)


def pixel_index(x_shape, fh, fw, stride, pad):
    """For every entry of col (C order), the flat index of the padded pixel it came from."""
    N, C, H, W = x_shape
    flat = np.arange(N * C * (H + 2 * pad) * (W + 2 * pad)).reshape(N, C, H + 2 * pad, -1)
    # im2col of the index image, unpadded by hand: pad=0 on the already padded grid
    return np.ascontiguousarray(conv.im2col(flat, fh, fw, stride, 0)).ravel()


def col2im_table(repeats):
    print("\ncol2im, float32: the reference's tap loop against index-array alternatives")
    header = f"{'shape':<27}{'tap loop ms':>12}{'np.add.at ms':>14}{'np.bincount ms':>16}"
    print(header)
    print("-" * len(header))
    for name, x_shape, (_, fh, fw), stride, pad, _ in SHAPES:
        N, C = x_shape[:2]
        OH = conv.conv_output_size(x_shape[2], fh, stride, pad)
        OW = conv.conv_output_size(x_shape[3], fw, stride, pad)
        rng = np.random.default_rng(0)
        col = np.asfortranarray(rng.standard_normal((N * OH * OW, C * fh * fw), dtype=np.float32))
        loop = lambda: conv.col2im(col, x_shape, fh, fw, stride, pad)  # noqa: E731
        times = interleaved_best(
            [loop, col2im_add_at(col, x_shape, fh, fw, stride, pad),
             col2im_bincount(col, x_shape, fh, fw, stride, pad)], repeats)
        print(f"{name:<27}" + "".join(f"{t * 1e3:>{w}.2f}" for t, w in zip(times, (12, 14, 16))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 repeats, 1 naive image")
    args = parser.parse_args()
    repeats, naive_images = (3, 1) if args.quick else (10, 2)
    conv_table(repeats, naive_images)
    col2im_table(2 if args.quick else 5)


if __name__ == "__main__":
    main()
