"""Assignment 3 (im2col, convolution and pooling): mistakes students make, and correct answers
written differently."""

from autograder.mistakes import Alternative, Mistake

OUTPUT_SIZE = '''def output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2*pad - filter_size) / stride + 1, refusing sizes that do not fit."""
    span = input_size + 2 * pad - filter_size
    if span < 0 or span % stride:
        raise ValueError(f"a filter of {filter_size} with stride {stride} does not fit "
                         f"{input_size} + 2*{pad}")
    return span // stride + 1


'''

IM2COL = OUTPUT_SIZE + '''def im2col(x, fh, fw, stride=1, pad=0):
    N, C, H, W = x.shape
    OH, OW = output_size(H, fh, stride, pad), output_size(W, fw, stride, pad)
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    col = np.empty((N, C, fh, fw, OH, OW), dtype=x.dtype)
    for p in range(fh):
        for q in range(fw):
            col[:, :, p, q] = x_pad[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * OH * OW, C * fh * fw)
'''

COL2IM = '''def col2im(col, x_shape, fh, fw, stride=1, pad=0):
    N, C, H, W = x_shape
    OH, OW = output_size(H, fh, stride, pad), output_size(W, fw, stride, pad)
    patches = col.reshape(N, OH, OW, C, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for p in range(fh):
        for q in range(fw):
            x_pad[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride] += patches[:, :, p, q]
    return x_pad[:, :, pad:pad + H, pad:pad + W]
'''

CONVOLUTION = '''class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b = W, b
        self.stride, self.pad = stride, pad
        self.x_shape = None
        self.col = None
        self.col_W = None
        self.dW = self.db = None

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, _, H, W = x.shape
        OH = output_size(H, FH, self.stride, self.pad)
        OW = output_size(W, FW, self.stride, self.pad)
        self.x_shape = x.shape
        self.col = im2col(x, FH, FW, self.stride, self.pad)
        self.col_W = self.W.reshape(FN, -1).T
        out = self.col @ self.col_W + self.b
        return out.reshape(N, OH, OW, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = dout2.sum(axis=0)
        self.dW = (self.col.T @ dout2).T.reshape(FN, C, FH, FW)
        dcol = dout2 @ self.col_W.T
        return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)
'''

MAX_POOLING = '''class MaxPooling:
    def __init__(self, pool_h, pool_w, stride=None, pad=0):
        self.pool_h, self.pool_w, self.pad = pool_h, pool_w, pad
        self.stride = pool_h if stride is None else stride
        self.x_shape = None
        self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        OH = output_size(H, self.pool_h, self.stride, self.pad)
        OW = output_size(W, self.pool_w, self.stride, self.pad)
        p = self.pad
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        col = im2col(x_pad, self.pool_h, self.pool_w, self.stride, 0)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x_shape = x.shape
        self.arg_max = np.argmax(col, axis=1)
        out = col[np.arange(len(col)), self.arg_max]
        return out.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        N, C, H, W = self.x_shape
        window = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, window), dtype=dout.dtype)
        dmax[np.arange(dout.size), self.arg_max] = dout.transpose(0, 2, 3, 1).ravel()
        p = self.pad
        padded_shape = (N, C, H + 2 * p, W + 2 * p)
        dx_pad = col2im(dmax.reshape(-1, C * window), padded_shape, self.pool_h, self.pool_w,
                        self.stride, 0)
        return dx_pad[:, :, p:p + H, p:p + W]
'''

AVERAGE_POOLING = '''class AveragePooling:
    def __init__(self, pool_h, pool_w, stride=None, pad=0):
        self.pool_h, self.pool_w, self.pad = pool_h, pool_w, pad
        self.stride = pool_h if stride is None else stride
        self.x_shape = None

    def forward(self, x):
        N, C, H, W = x.shape
        OH = output_size(H, self.pool_h, self.stride, self.pad)
        OW = output_size(W, self.pool_w, self.stride, self.pad)
        self.x_shape = x.shape
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        out = col.reshape(-1, self.pool_h * self.pool_w).mean(axis=1)
        return out.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        N, C, H, W = self.x_shape
        window = self.pool_h * self.pool_w
        share = dout.transpose(0, 2, 3, 1).reshape(-1, 1) / window
        dcol = np.repeat(share, window, axis=1).reshape(-1, C * window)
        return col2im(dcol, self.x_shape, self.pool_h, self.pool_w, self.stride, self.pad)
'''


def edit(code: str, *pairs: str) -> str:
    """The reference cell with each (old, new) pair replaced once; old must be there."""
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in code, f"{old!r} not in the reference cell"
        code = code.replace(old, new, 1)
    return code


STRIDE_SLICE = "p:p + stride * OH:stride, q:q + stride * OW:stride"

MISTAKES = [
    # im2col
    Mistake("im2col with rows and columns swapped (one column per patch)", "im2col",
            edit(IM2COL, "col.transpose(0, 4, 5, 1, 2, 3).reshape(N * OH * OW, C * fh * fw)",
                 "col.transpose(1, 2, 3, 0, 4, 5).reshape(C * fh * fw, N * OH * OW)"),
            ("transposed", "one ROW per patch")),
    Mistake("im2col walks the output positions column by column", "im2col",
            edit(IM2COL, "transpose(0, 4, 5, 1, 2, 3)", "transpose(0, 5, 4, 1, 2, 3)"),
            ("rows are in the wrong order",)),
    Mistake("im2col puts the channel last inside a row", "im2col",
            edit(IM2COL, "transpose(0, 4, 5, 1, 2, 3)", "transpose(0, 4, 5, 2, 3, 1)"),
            ("column k",)),
    Mistake("im2col ignores the stride when slicing", "im2col",
            edit(IM2COL, STRIDE_SLICE, "p:p + OH, q:q + OW"), ("not by the stride",)),
    Mistake("im2col returns float64 for float32 input", "im2col",
            edit(IM2COL, "np.empty((N, C, fh, fw, OH, OW), dtype=x.dtype)",
                 "np.zeros((N, C, fh, fw, OH, OW))"), ("dtype",)),
    Mistake("im2col's output size without the + 1", "im2col",
            edit(IM2COL, "output_size(H, fh, stride, pad), output_size(W, fw, stride, pad)",
                 "(H + 2 * pad - fh) // stride, (W + 2 * pad - fw) // stride"),
            ("the + 1 is missing",)),
    # col2im
    Mistake("col2im with = for += (overlaps overwritten)", "col2im",
            edit(COL2IM, "] += patches", "] = patches"), ("+=", "overlapping windows")),
    Mistake("col2im keeps the padding", "col2im",
            edit(COL2IM, "return x_pad[:, :, pad:pad + H, pad:pad + W]", "return x_pad"),
            ("padding was not removed",)),
    Mistake("col2im ignores the stride when adding back", "col2im",
            edit(COL2IM, STRIDE_SLICE, "p:p + OH, q:q + OW"), ("not by the stride",)),
    Mistake("col2im reads col in the layout of the 6-D buffer", "col2im",
            edit(COL2IM, "col.reshape(N, OH, OW, C, fh, fw).transpose(0, 3, 4, 5, 1, 2)",
                 "col.reshape(N, C, fh, fw, OH, OW)"), ("row = (n, i, j)",)),
    Mistake("col2im returns float64 for a float32 col", "col2im",
            edit(COL2IM, "np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)",
                 "np.zeros((N, C, H + 2 * pad, W + 2 * pad))"), ("dtype",)),
    # Convolution forward
    Mistake("convolution forward forgets the bias", "convolution",
            edit(CONVOLUTION, "self.col @ self.col_W + self.b", "self.col @ self.col_W"),
            ("bias is missing",)),
    Mistake("convolution forward flips the filter", "convolution",
            edit(CONVOLUTION, "self.W.reshape(FN, -1).T",
                 "self.W[:, :, ::-1, ::-1].reshape(FN, -1).T"),
            ("flipped",)),
    Mistake("convolution forward reshapes straight to (N, FN, OH, OW)", "convolution",
            edit(CONVOLUTION, "out.reshape(N, OH, OW, FN).transpose(0, 3, 1, 2)",
                 "out.reshape(N, FN, OH, OW)"), ("transpose(0, 3, 1, 2)",)),
    Mistake("convolution forward reshapes W to (-1, FN)", "convolution",
            edit(CONVOLUTION, "self.W.reshape(FN, -1).T", "self.W.reshape(-1, FN)"),
            ("W.reshape(-1, FN) mixes",)),
    # Convolution backward
    Mistake("convolution backward dW reshaped without the transpose", "convolution",
            edit(CONVOLUTION, "(self.col.T @ dout2).T.reshape", "(self.col.T @ dout2).reshape"),
            ("transpose it",)),
    Mistake("convolution backward db summed over the batch only", "convolution",
            edit(CONVOLUTION, "self.db = dout2.sum(axis=0)", "self.db = dout.sum(axis=0)"),
            ("axes 0, 2 and 3",)),
    Mistake("convolution backward reshapes dout without the transpose", "convolution",
            edit(CONVOLUTION, "dout.transpose(0, 2, 3, 1).reshape(-1, FN)", "dout.reshape(-1, FN)"),
            ("transpose(0, 2, 3, 1)",)),
    Mistake("convolution backward forgets to remove the padding", "convolution",
            edit(CONVOLUTION, "return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)",
                 "N, C, H, W = self.x_shape\n        p = self.pad\n        return col2im("
                 "dcol, (N, C, H + 2 * p, W + 2 * p), FH, FW, self.stride, 0)"),
            ("padding was not removed",)),
    # MaxPooling
    Mistake("max pooling pads with zeros (im2col's pad)", "max_pooling",
            edit(MAX_POOLING, "        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), "
                              "constant_values=-np.inf)\n"
                              "        col = im2col(x_pad, self.pool_h, self.pool_w, "
                              "self.stride, 0)",
                 "        col = im2col(x, self.pool_h, self.pool_w, self.stride, p)"),
            ("-inf",)),
    Mistake("max pooling forward reshapes straight to (N, C, OH, OW)", "max_pooling",
            edit(MAX_POOLING, "out.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)",
                 "out.reshape(N, C, OH, OW)"), ("transpose(0, 3, 1, 2)",)),
    Mistake("max pooling backward to every pixel of the window", "max_pooling",
            edit(MAX_POOLING, "dmax[np.arange(dout.size), self.arg_max] = "
                              "dout.transpose(0, 2, 3, 1).ravel()",
                 "dmax[:, :] = dout.transpose(0, 2, 3, 1).reshape(-1, 1)"), ("every pixel",)),
    Mistake("max pooling backward to every tied maximum", "max_pooling",
            edit(MAX_POOLING, "        self.arg_max = np.argmax(col, axis=1)\n"
                              "        out = col[np.arange(len(col)), self.arg_max]",
                 "        out = np.max(col, axis=1)\n"
                 "        self.arg_max = col == out[:, None]",
                 "        dmax[np.arange(dout.size), self.arg_max] = "
                 "dout.transpose(0, 2, 3, 1).ravel()",
                 "        dmax[self.arg_max] = np.repeat(dout.transpose(0, 2, 3, 1).ravel(),\n"
                 "                                       self.arg_max.sum(axis=1))"),
            ("first maximum",)),
    Mistake("max pooling backward keeps the padding", "max_pooling",
            edit(MAX_POOLING, "return dx_pad[:, :, p:p + H, p:p + W]", "return dx_pad"),
            ("padding was not removed",)),
    Mistake("max pooling backward reads dout in (n, c, i, j) order", "max_pooling",
            edit(MAX_POOLING, "= dout.transpose(0, 2, 3, 1).ravel()", "= dout.ravel()"),
            ("transpose(0, 2, 3, 1)",)),
    # AveragePooling
    Mistake("average pooling backward does not divide by the window", "average_pooling",
            edit(AVERAGE_POOLING, ".reshape(-1, 1) / window", ".reshape(-1, 1)"),
            ("not divided",)),
]

ALTERNATIVES = [
    Alternative("im2col and col2im with loops over the output positions", {
        "im2col": OUTPUT_SIZE + '''def im2col(x, fh, fw, stride=1, pad=0):
    N, C, H, W = x.shape
    OH, OW = output_size(H, fh, stride, pad), output_size(W, fw, stride, pad)
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x
    rows = []
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                top, left = i * stride, j * stride
                rows.append(x_pad[n, :, top:top + fh, left:left + fw].reshape(-1))
    return np.array(rows, dtype=x.dtype).reshape(N * OH * OW, C * fh * fw)
''',
        "col2im": '''def col2im(col, x_shape, fh, fw, stride=1, pad=0):
    N, C, H, W = x_shape
    OH, OW = output_size(H, fh, stride, pad), output_size(W, fw, stride, pad)
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    r = 0
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                top, left = i * stride, j * stride
                x_pad[n, :, top:top + fh, left:left + fw] += col[r].reshape(C, fh, fw)
                r += 1
    return x_pad[:, :, pad:H + pad, pad:W + pad].copy()
'''}),
    Alternative("convolution by einsum, pooling by loops over the windows", {
        "convolution": edit(CONVOLUTION, '''        out = self.col @ self.col_W + self.b
        return out.reshape(N, OH, OW, FN).transpose(0, 3, 1, 2)''',
                            '''        out = np.einsum("rk,kf->rf", self.col, self.col_W) + self.b
        return np.moveaxis(out.reshape(N, OH, OW, FN), 3, 1)''',
                            '''        dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = dout2.sum(axis=0)
        self.dW = (self.col.T @ dout2).T.reshape(FN, C, FH, FW)
        dcol = dout2 @ self.col_W.T''', '''        self.db = dout.sum(axis=(0, 2, 3))
        dout2 = np.moveaxis(dout, 1, 3).reshape(-1, FN)
        self.dW = np.einsum("rf,rk->fk", dout2, self.col).reshape(self.W.shape)
        dcol = np.einsum("rf,fk->rk", dout2, self.W.reshape(FN, -1))'''),
        "max_pooling": '''class MaxPooling:
    def __init__(self, pool_h, pool_w, stride=None, pad=0):
        self.pool_h, self.pool_w, self.pad = pool_h, pool_w, pad
        self.stride = pool_h if stride is None else stride
        self.x_shape = None
        self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        s, p, ph, pw = self.stride, self.pad, self.pool_h, self.pool_w
        OH, OW = output_size(H, ph, s, p), output_size(W, pw, s, p)
        x_pad = np.full((N, C, H + 2 * p, W + 2 * p), -np.inf, dtype=x.dtype)
        x_pad[:, :, p:p + H, p:p + W] = x
        out = np.empty((N, C, OH, OW), dtype=x.dtype)
        self.arg_max = np.empty((N, C, OH, OW), dtype=int)
        for i in range(OH):
            for j in range(OW):
                window = x_pad[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
                self.arg_max[:, :, i, j] = window.argmax(axis=2)
                out[:, :, i, j] = window.max(axis=2)
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        N, C, H, W = self.x_shape
        s, p, ph, pw = self.stride, self.pad, self.pool_h, self.pool_w
        dx_pad = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=dout.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        a, b = divmod(int(self.arg_max[n, c, i, j]), pw)
                        dx_pad[n, c, i * s + a, j * s + b] += dout[n, c, i, j]
        return dx_pad[:, :, p:p + H, p:p + W]
''',
        "average_pooling": edit(AVERAGE_POOLING, '''        window = self.pool_h * self.pool_w
        share = dout.transpose(0, 2, 3, 1).reshape(-1, 1) / window
        dcol = np.repeat(share, window, axis=1).reshape(-1, C * window)''',
            '''        share = dout.transpose(0, 2, 3, 1)[..., None] / (self.pool_h * self.pool_w)
        dcol = np.broadcast_to(share, share.shape[:-1] + (self.pool_h * self.pool_w,))
        dcol = dcol.reshape(-1, C * self.pool_h * self.pool_w)'''),
    }),
]

# Mechanical mutants no test can tell from the reference, with the reason.
EQUIVALENT = {
    "convolution:0:delete-body-5": "drops `self.dW = self.db = None` from __init__; backward "
                                   "always sets both before anything reads them",
    "average_pooling:154:1->2": "reshape(-2, C * window): NumPy reads any negative size as "
                                "'the rest', the same as -1",
    "convolution:106:1->2": "W.reshape(FN, -2): NumPy reads any negative size as 'the rest', "
                            "the same as -1",
    "average_pooling:92:1->2": "reshape(-2, pool_h * pool_w): NumPy reads any negative size as "
                               "'the rest', the same as -1",
    "convolution:153:1->2": "dout2 = ....reshape(-2, FN): NumPy reads any negative size as 'the "
                            "rest', the same as -1",
    "average_pooling:149:swap-args": "dcol.reshape(C * window, -1) for (-1, C * window): the same "
                                     "numbers in the same order, and col2im reads col only through "
                                     "col.reshape(N, OH, OW, C, fh, fw)",
}
