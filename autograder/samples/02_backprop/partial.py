"""A partly correct submission: activations, softmax, gradient check, ReLU, Sigmoid and Momentum
right; the batch mean, the shape of dW, the 1/N of SoftmaxWithLoss and Adam's bias correction
wrong — the four mistakes the lecture warns about."""

# grade_ids whose cells are copied from the reference solution
SOLVED = ["activations", "softmax", "numerical_gradient", "relu", "sigmoid", "momentum"]

# grade_ids whose cells get this student's own (wrong) code
WRITTEN = {
    "cross_entropy": (
        "def cross_entropy_error(y, t):\n"
        "    if t.ndim == 1:\n"
        "        t = np.eye(y.shape[1])[t]\n"
        "    return -np.sum(t * np.log(y + 1e-7))  # a sum over the batch, not the mean\n"
    ),
    "affine": (
        "class Affine:\n"
        "    def __init__(self, W, b):\n"
        "        self.W, self.b = W, b\n"
        "        self.x = self.x_shape = None\n"
        "        self.dW = self.db = None\n"
        "\n"
        "    def forward(self, x):\n"
        "        self.x_shape = x.shape\n"
        "        self.x = x.reshape(x.shape[0], -1)\n"
        "        return self.x @ self.W + self.b\n"
        "\n"
        "    def backward(self, dout):\n"
        "        self.dW = dout.T @ self.x  # transposed: (M, D) instead of (D, M)\n"
        "        self.db = dout.sum(axis=0)\n"
        "        return (dout @ self.W.T).reshape(self.x_shape)\n"
    ),
    "softmax_with_loss": (
        "class SoftmaxWithLoss:\n"
        "    def __init__(self):\n"
        "        self.y = self.t = self.loss = None\n"
        "\n"
        "    def forward(self, x, t):\n"
        "        self.t = t\n"
        "        self.y = softmax(x)\n"
        "        self.loss = cross_entropy_error(self.y, t)\n"
        "        return self.loss\n"
        "\n"
        "    def backward(self, dout=1.0):\n"
        "        t = self.t if self.t.shape == self.y.shape else np.eye(self.y.shape[1])[self.t]\n"
        "        return dout * (self.y - t)  # forgot to divide by the batch size\n"
    ),
    "adam": (
        "class Adam:\n"
        "    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"
        "        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps\n"
        "        self.t = 0\n"
        "        self.m, self.v = {}, {}\n"
        "\n"
        "    def update(self, params, grads):\n"
        "        for key in params:\n"
        "            m = self.m.setdefault(key, np.zeros_like(params[key]))\n"
        "            v = self.v.setdefault(key, np.zeros_like(params[key]))\n"
        "            m[...] = self.beta1 * m + (1 - self.beta1) * grads[key]\n"
        "            v[...] = self.beta2 * v + (1 - self.beta2) * grads[key] ** 2\n"
        "            params[key] -= self.lr * m / (np.sqrt(v) + self.eps)  # no bias correction\n"
    ),
}
