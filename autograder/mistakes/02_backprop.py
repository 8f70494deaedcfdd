"""Assignment 2 (backpropagation): mistakes students make, and correct answers written
differently."""

from autograder.mistakes import Alternative, Mistake

ACTIVATIONS = '''def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1.0 - s)


def relu(x):
    return np.maximum(x, 0)


def relu_grad(x):
    return (x > 0).astype(float)


def tanh_grad(x):
    return 1.0 - np.tanh(x) ** 2
'''

SOFTMAX = '''def softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)
'''

CROSS_ENTROPY = '''def cross_entropy_error(y, t):
    t = np.asarray(t)
    n = y.shape[0]
    if t.shape != y.shape:
        t = np.eye(y.shape[1])[t]
    return -float(np.sum(t * np.log(y + 1e-7))) / n
'''

NUMERICAL_GRADIENT = '''def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = f(x)
        x[index] = original - h
        f_minus = f(x)
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad
'''

AFFINE = '''class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.x_shape = None
        self.dW = self.db = None

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)
'''

RELU = '''class ReLU:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx
'''

SIGMOID = '''class Sigmoid:
    def __init__(self):
        self.x = self.out = None

    def forward(self, x):
        self.x = x
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)
'''

SOFTMAX_WITH_LOSS = '''class SoftmaxWithLoss:
    def __init__(self):
        self.y = self.t = self.loss = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, t)
        return self.loss

    def backward(self, dout=1.0):
        n = self.y.shape[0]
        t = np.asarray(self.t)
        if t.shape == self.y.shape:
            dx = self.y - t
        else:
            dx = self.y.copy()
            dx[np.arange(n), t] -= 1.0
        return dout * dx / n
'''

MOMENTUM = '''class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v = {}

    def update(self, params, grads):
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
'''

ADAM = '''class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m, self.v = {}, {}

    def update(self, params, grads):
        self.t += 1
        for key in params:
            if key not in self.m:
                self.m[key] = np.zeros_like(params[key])
                self.v[key] = np.zeros_like(params[key])
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
            m_hat = self.m[key] / (1 - self.beta1 ** self.t)
            v_hat = self.v[key] / (1 - self.beta2 ** self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
'''


DELTA_RULE = '''def delta_rule(x, d, weights, biases):
    outputs, states = [x], []  # outputs[i] = x^(i), states[i] = a^(i+1)
    for W, b in zip(weights, biases):
        states.append(outputs[-1] @ W + b)
        outputs.append(sigmoid(states[-1]))
    delta = (outputs[-1] - d) * sigmoid_grad(states[-1])  # delta^(I)
    dW, db = [], []
    for i in reversed(range(len(weights))):
        dW.insert(0, outputs[i].T @ delta)
        db.insert(0, delta.sum(axis=0))
        if i > 0:  # pass delta back through W^(i) and the slope of layer i
            delta = (delta @ weights[i].T) * sigmoid_grad(states[i - 1])
    return dW, db
'''


def edit(code: str, *pairs: str) -> str:
    """The reference cell with each (old, new) pair replaced once; old must be there."""
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in code, f"{old!r} not in the reference cell"
        code = code.replace(old, new, 1)
    return code


MISTAKES = [
    # activations
    Mistake("sigmoid_grad from the output formula x * (1 - x)", "activations",
            edit(ACTIVATIONS, "    s = sigmoid(x)\n    return s * (1.0 - s)",
                 "    return x * (1.0 - x)"), ("x * (1 - x)",)),
    Mistake("relu_grad is 1 at x = 0 (>= for >)", "activations",
            edit(ACTIVATIONS, "(x > 0)", "(x >= 0)"), (">=",)),
    Mistake("tanh_grad as 1 - x**2", "activations",
            edit(ACTIVATIONS, "np.tanh(x) ** 2", "x ** 2"), ("1 - x**2",)),
    # softmax
    Mistake("softmax without max-subtraction", "softmax",
            edit(SOFTMAX, "    shifted = x - np.max(x, axis=-1, keepdims=True)\n"
                          "    e = np.exp(shifted)", "    e = np.exp(x)"),
            ("subtract the max",)),
    Mistake("softmax subtracts the maximum of the whole array", "softmax",
            edit(SOFTMAX, "np.max(x, axis=-1, keepdims=True)", "np.max(x)"),
            ("row's own maximum",)),
    Mistake("softmax normalised by the sum of the whole array", "softmax",
            edit(SOFTMAX, "np.sum(e, axis=-1, keepdims=True)", "np.sum(e)"),
            ("last axis",)),
    # cross-entropy
    Mistake("cross-entropy without 1/N", "cross_entropy",
            edit(CROSS_ENTROPY, " / n\n", "\n"), ("batch size",)),
    Mistake("cross-entropy without the tiny constant in the log", "cross_entropy",
            edit(CROSS_ENTROPY, "np.log(y + 1e-7)", "np.log(y)"), ("log(0)",)),
    Mistake("cross-entropy with labels picks whole columns y[:, t]", "cross_entropy",
            '''def cross_entropy_error(y, t):
    t = np.asarray(t)
    n = y.shape[0]
    if t.shape == y.shape:
        return -np.sum(t * np.log(y + 1e-7)) / n
    return -np.sum(np.log(y[:, t] + 1e-7)) / n
''', ("np.arange(N)",)),
    # numerical gradient
    Mistake("numerical gradient by forward differences", "numerical_gradient",
            '''def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    f_x = f(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = f(x)
        x[index] = original
        grad[index] = (f_plus - f_x) / h
    return grad
''', ("central difference",)),
    Mistake("numerical gradient divides by h, not 2h", "numerical_gradient",
            edit(NUMERICAL_GRADIENT, "(2 * h)", "h"), ("2h", "twice")),
    Mistake("numerical gradient does not put x back", "numerical_gradient",
            edit(NUMERICAL_GRADIENT, "        x[index] = original\n", ""),
            ("put each entry back",)),
    # Affine
    Mistake("Affine dW transposed (dout.T @ x)", "affine",
            edit(AFFINE, "self.x.T @ dout", "dout.T @ self.x"), ("W.T", "transposed")),
    Mistake("Affine db not summed over the batch", "affine",
            edit(AFFINE, "np.sum(dout, axis=0)", "dout"), ("axis=0", "sum dout")),
    Mistake("Affine db as the mean over the batch", "affine",
            edit(AFFINE, "np.sum(dout, axis=0)", "np.mean(dout, axis=0)"), ("mean",)),
    Mistake("Affine dx with W, not W.T", "affine",
            edit(AFFINE, "(dout @ self.W.T)", "(dout @ self.W)"), ("W.T",)),
    # ReLU, Sigmoid
    Mistake("ReLU backward zeroes dout in place", "relu",
            edit(RELU, "        dx = dout.copy()\n        dx[self.mask] = 0\n        return dx",
                 "        dout[self.mask] = 0\n        return dout"), ("in place",)),
    Mistake("Sigmoid backward from the input instead of the output", "sigmoid",
            edit(SIGMOID, "dout * self.out * (1.0 - self.out)", "dout * self.x * (1.0 - self.x)"),
            ("of the input",)),
    # SoftmaxWithLoss
    Mistake("SoftmaxWithLoss backward without 1/N", "softmax_with_loss",
            edit(SOFTMAX_WITH_LOSS, "dout * dx / n", "dout * dx"), ("batch size",)),
    Mistake("SoftmaxWithLoss backward only for one-hot targets", "softmax_with_loss",
            edit(SOFTMAX_WITH_LOSS, '''        n = self.y.shape[0]
        t = np.asarray(self.t)
        if t.shape == self.y.shape:
            dx = self.y - t
        else:
            dx = self.y.copy()
            dx[np.arange(n), t] -= 1.0
        return dout * dx / n''', '''        n = self.y.shape[0]
        return dout * (self.y - self.t) / n'''), ("integer labels",)),
    Mistake("SoftmaxWithLoss backward changes self.y", "softmax_with_loss",
            edit(SOFTMAX_WITH_LOSS, "dx = self.y.copy()", "dx = self.y"), ("self.y",)),
    # Momentum
    Mistake("Momentum replaces params[key] with a new array", "momentum",
            edit(MOMENTUM, "params[key] += self.v[key]", "params[key] = params[key] + self.v[key]"),
            ("in place",)),
    Mistake("Momentum keeps no velocity between calls", "momentum",
            '''class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v = {}

    def update(self, params, grads):
        for key in params:
            v = np.zeros_like(params[key])
            v = self.momentum * v - self.lr * grads[key]
            params[key] += v
''', ("between calls",)),
    Mistake("Momentum climbs the gradient (v = a v + lr g)", "momentum",
            edit(MOMENTUM, "- self.lr * grads[key]", "+ self.lr * grads[key]"),
            ("-lr * grad", "wrong direction")),
    # Adam
    Mistake("Adam without bias correction", "adam",
            edit(ADAM, "m_hat = self.m[key] / (1 - self.beta1 ** self.t)", "m_hat = self.m[key]",
                 "v_hat = self.v[key] / (1 - self.beta2 ** self.t)", "v_hat = self.v[key]"),
            ("bias correction",)),
    Mistake("Adam counts t once per parameter", "adam",
            edit(ADAM, "        self.t += 1\n        for key in params:\n",
                 "        for key in params:\n            self.t += 1\n"), ("once per call",)),
    Mistake("Adam without the square root of v", "adam",
            edit(ADAM, "np.sqrt(v_hat) + self.eps", "v_hat + self.eps"), ("square root",)),
    # the delta rule
    Mistake("delta rule with the output delta's sign flipped (d - y)", "delta_rule",
            edit(DELTA_RULE, "(outputs[-1] - d)", "(d - outputs[-1])"),
            ("negative gradient", "not (d - y)")),
    Mistake("delta rule without the slope at the output layer", "delta_rule",
            edit(DELTA_RULE, "delta = (outputs[-1] - d) * sigmoid_grad(states[-1])",
                 "delta = outputs[-1] - d"), ("slope f'(a^(I)) at the output",)),
    Mistake("delta rule without the slope of the hidden layers", "delta_rule",
            edit(DELTA_RULE, "delta = (delta @ weights[i].T) * sigmoid_grad(states[i - 1])",
                 "delta = delta @ weights[i].T"), ("passing delta back through a hidden layer",)),
    Mistake("delta rule averages over the batch", "delta_rule",
            edit(DELTA_RULE, "dW.insert(0, outputs[i].T @ delta)",
                 "dW.insert(0, outputs[i].T @ delta / len(x))",
                 "db.insert(0, delta.sum(axis=0))", "db.insert(0, delta.mean(axis=0))"),
            ("divided by the batch size",)),
    Mistake("delta rule takes the output slope at y instead of a", "delta_rule",
            edit(DELTA_RULE, "* sigmoid_grad(states[-1])", "* sigmoid_grad(outputs[-1])"),
            ("not at the output y",)),
]

NDITER = '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        keep = float(x[i])
        x[i] = keep + h
        up = f(x)
        x[i] = keep - h
        down = f(x)
        x[i] = keep
        grad[i] = (up - down) / (2 * h)
        it.iternext()
    return grad
'''

ALTERNATIVES = [
    Alternative("activations through np.where and tanh identities", {"activations": '''
def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid_grad(x):
    return np.exp(-np.logaddexp(0.0, -x) - np.logaddexp(0.0, x))


def relu(x):
    return np.where(x > 0, x, 0.0 * x)


def relu_grad(x):
    return np.where(x > 0, 1.0, 0.0)


def tanh_grad(x):
    return 1.0 / np.cosh(x) ** 2
''', "numerical_gradient": NDITER}),
    Alternative("softmax by log-sum-exp, cross-entropy picking the true class, layers by einsum", {
        "softmax": '''
def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    log_z = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    return np.exp(x - log_z)
''',
        "cross_entropy": '''
def cross_entropy_error(y, t):
    t = np.asarray(t)
    if t.ndim == y.ndim:
        t = np.argmax(t, axis=1)
    n = len(t)
    picked = y[np.arange(n), t]
    return float(-np.mean(np.log(picked + 1e-7)))
''',
        "affine": edit(AFFINE, '''        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)''',
            '''        self.dW = np.einsum("nd,nm->dm", self.x, dout)
        self.db = np.zeros_like(self.b)
        for row in dout:
            self.db = self.db + row
        dx = np.einsum("nm,dm->nd", dout, self.W)
        return dx.reshape(*self.x_shape)'''),
        "relu": edit(RELU, '''        dx = dout.copy()
        dx[self.mask] = 0
        return dx''', '''        return np.where(self.mask, 0, dout)'''),
        "sigmoid": edit(SIGMOID, "dout * self.out * (1.0 - self.out)",
                        "dout * (self.out - self.out ** 2)"),
        "softmax_with_loss": edit(SOFTMAX_WITH_LOSS, '''        n = self.y.shape[0]
        t = np.asarray(self.t)
        if t.shape == self.y.shape:
            dx = self.y - t
        else:
            dx = self.y.copy()
            dx[np.arange(n), t] -= 1.0
        return dout * dx / n''', '''        n, c = self.y.shape
        t = np.asarray(self.t)
        if t.ndim == 1:
            t = (np.arange(c)[None, :] == t[:, None]).astype(self.y.dtype)
        return (self.y - t) * (dout / n)'''),
    }),
    Alternative("optimizers with the paper's step size and a velocity added in two steps", {
        "momentum": '''
class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v = {}

    def update(self, params, grads):
        for key, grad in grads.items():
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * grad
            np.add(params[key], v, out=params[key])
''',
        "adam": '''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m, self.v = {}, {}

    def update(self, params, grads):
        self.t += 1
        c1, c2 = 1 - self.beta1 ** self.t, 1 - self.beta2 ** self.t
        for key, g in grads.items():
            m = self.m.setdefault(key, np.zeros_like(params[key]))
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g * g - v)
            params[key] -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
'''}),
]

ALTERNATIVES += [
    Alternative("delta rule sample by sample, the gradients summed over the samples", {
        "delta_rule": '''
def delta_rule(x, d, weights, biases):
    dW = [np.zeros_like(W) for W in weights]
    db = [np.zeros_like(b) for b in biases]
    for x_m, d_m in zip(x, d):  # the lecture's sum over the M samples, one at a time
        layer_outputs, layer_states = [x_m], []
        for W, b in zip(weights, biases):
            layer_states.append(layer_outputs[-1] @ W + b)
            layer_outputs.append(1.0 / (1.0 + np.exp(-layer_states[-1])))
        slopes = [out * (1.0 - out) for out in layer_outputs[1:]]
        delta = (layer_outputs[-1] - d_m) * slopes[-1]
        for i in range(len(weights) - 1, -1, -1):
            dW[i] += np.outer(layer_outputs[i], delta)
            db[i] += delta
            if i:
                delta = (weights[i] @ delta) * slopes[i - 1]
    return dW, db
'''}),
    Alternative("delta rule with every delta first, then einsum for the gradients", {
        "delta_rule": '''
def delta_rule(x, d, weights, biases):
    xs, zs = [np.asarray(x)], []
    for W, b in zip(weights, biases):
        zs.append(np.einsum("nm,mk->nk", xs[-1], W) + b)
        xs.append(sigmoid(zs[-1]))
    deltas = [None] * len(weights)
    deltas[-1] = (xs[-1] - d) * sigmoid_grad(zs[-1])
    for i in range(len(weights) - 2, -1, -1):
        deltas[i] = np.einsum("nk,mk->nm", deltas[i + 1], weights[i + 1]) * sigmoid_grad(zs[i])
    dW = [np.einsum("nm,nk->mk", xs[i], deltas[i]) for i in range(len(weights))]
    return dW, [delta.sum(axis=0) for delta in deltas]
'''}),
]

# Mechanical mutants no test can tell from the reference, with the reason.
EQUIVALENT = {
    "cross_entropy:0:delete-body-0": "drops `t = np.asarray(t)`: the assignment hands t over as an "
                                     "array (one-hot (N, C) or labels (N,)), on which np.asarray "
                                     "changes nothing",
    "cross_entropy:53:1e-07->2e-07": "the constant inside the log is the student's to choose (\"a "
                                     "tiny constant such as 1e-7\"): 2e-7 moves the loss by about "
                                     "1e-7, well inside what any such choice must be allowed",
}
