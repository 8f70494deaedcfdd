"""A partly correct submission: im2col and max pooling right; col2im overwrites overlapping
windows instead of adding them, the convolution calls PyTorch, average pooling not attempted."""

# grade_ids whose cells are copied from the reference solution
SOLVED = ["im2col", "max_pooling"]

# grade_ids whose cells get this student's own (wrong) code
WRITTEN = {
    "col2im": (
        "def col2im(col, x_shape, fh, fw, stride=1, pad=0):\n"
        "    N, C, H, W = x_shape\n"
        "    OH, OW = output_size(H, fh, stride, pad), output_size(W, fw, stride, pad)\n"
        "    patches = col.reshape(N, OH, OW, C, fh, fw)\n"
        "    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)\n"
        "    for i in range(OH):\n"
        "        for j in range(OW):\n"
        "            rows = slice(i * stride, i * stride + fh)\n"
        "            cols = slice(j * stride, j * stride + fw)\n"
        "            x_pad[:, :, rows, cols] = patches[:, i, j]  # overwrites what overlaps\n"
        "    return x_pad[:, :, pad:pad + H, pad:pad + W]\n"
    ),
    "convolution": (
        "import torch\n"
        "import torch.nn.functional as F\n"
        "\n"
        "\n"
        "class Convolution:\n"
        "    def __init__(self, W, b, stride=1, pad=0):\n"
        "        self.W, self.b, self.stride, self.pad = W, b, stride, pad\n"
        "        self.dW = self.db = None\n"
        "\n"
        "    def forward(self, x):  # lets PyTorch do the work\n"
        "        arrays = (x, self.W, self.b)\n"
        "        self.tensors = [torch.tensor(a, requires_grad=True) for a in arrays]\n"
        "        self.out = F.conv2d(*self.tensors, stride=self.stride, padding=self.pad)\n"
        "        return self.out.detach().numpy()\n"
        "\n"
        "    def backward(self, dout):\n"
        "        self.out.backward(torch.tensor(dout))\n"
        "        dx, self.dW, self.db = (t.grad.numpy() for t in self.tensors)\n"
        "        return dx\n"
    ),
}
