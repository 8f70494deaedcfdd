"""Topic 2: course/02_backprop.ipynb, source/02_backprop/, tests/test_backprop.py

Backpropagation: the reference implementation, in NumPy only.

What the lectures teach, in the order they teach it:

* activations and their derivatives (``sigmoid``, ``sigmoid_grad``, ...) and ``softmax``;
* losses: the sum-of-squares error E = 1/2 sum ||d - y||^2 and the cross-entropy error;
* the delta rule for a sigmoid network (``delta_rule``), written as in the lecture:
  delta^(I) = (y - d) f'(a^(I)),  delta^(i) = (delta^(i+1) W^(i)^T) f'(a^(i)),
  dE/dW^(i-1) = x^(i-1)^T delta^(i);
* the same idea as layers with ``forward``/``backward`` (``Affine``, ``ReLU``, ``Sigmoid``,
  ``Tanh``, ``SoftmaxWithLoss``) assembled into ``MultiLayerNet``;
* a central-difference gradient checker that *returns* its error (``numerical_gradient``,
  ``rel_error``, ``gradient_check``: they live in ``labutils.grading``, re-exported here);
* optimizers with one interface, ``update(params, grads)``, updating the arrays in place.

Shapes: N is the batch size, D the number of input features, M the number of outputs of a
layer, C the number of classes. Everything works in the dtype it is given; check gradients
in float64. Notation as in every lecture: a is a weighted sum (the internal state), b a bias.
"""

from dataclasses import dataclass

import numpy as np

# The gradient check lecture 2 teaches lives with the other shared checks; re-exported here.
from labutils.grading import GradCheck, gradient_check, numerical_gradient, rel_error  # noqa: F401
from labutils.perceptron import step  # topic 1's step function (1 where x > 0), re-exported

# ---------------------------------------------------------------- activations (elementwise)


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise; never overflows.

    exp is only ever taken of -|x| <= 0, so a logit of -1000 gives 0.0 without a warning.
    """
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_grad(x):
    """Derivative of the sigmoid at the pre-activation x: s(x) (1 - s(x))."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent, elementwise."""
    return np.tanh(x)


def tanh_grad(x):
    """Derivative of tanh at the pre-activation x: 1 - tanh(x)^2."""
    return 1.0 - np.tanh(x) ** 2


def relu(x):
    """Rectified linear unit max(0, x), elementwise."""
    return np.maximum(x, 0)


def relu_grad(x):
    """Derivative of ReLU at x: 1.0 where x > 0, else 0.0 (0 at x = 0, as PyTorch uses)."""
    return step(x).astype(float)  # ReLU's derivative is the step function of topic 1


def softmax(x):
    """Softmax over the last axis of x, shape (C,) or (N, C); never overflows.

    Subtracting the row maximum leaves the result unchanged and keeps every exp(.) <= 1.
    """
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- losses


def sum_squared_error(y, d):
    """E = 1/2 sum (y - d)^2 over every entry, the batch included (no mean), as in the lecture.

    y, d: outputs and targets of the same shape, e.g. (N, M). Returns a float.
    """
    return 0.5 * float(np.sum((np.asarray(y) - np.asarray(d)) ** 2))


def _targets_as_probabilities(t, y):
    """t as an array of y's shape: one-hot (or soft) targets as they are, labels one-hot encoded."""
    t = np.asarray(t)
    if t.shape == y.shape:
        return t
    return np.eye(y.shape[-1], dtype=y.dtype)[t]


def cross_entropy_error(y, t):
    """Mean over the batch of -sum_c t_c log y_c.

    y: probabilities, shape (N, C) or (C,). t: one-hot of y's shape, or integer labels (N,)
    (a scalar label for y of shape (C,)). A probability of exactly 0 is floored at the smallest
    positive float, so log(0) gives a large finite loss instead of inf and nan.
    """
    y = np.asarray(y)
    t = _targets_as_probabilities(t, y)
    batch_size = y.shape[0] if y.ndim == 2 else 1
    log_y = np.log(np.maximum(y, np.finfo(y.dtype).tiny))
    return -float(np.sum(t * log_y)) / batch_size


# ---------------------------------------------------------------- the delta rule


@dataclass
class DeltaRuleGrads:
    """What ``delta_rule`` returns, for a network of I layers (I = len(weights)).

    y: output x^(I), (N, M_I). deltas[i] = delta^(i+1) = dE/da^(i+1), (N, M_{i+1}).
    dW[i] = dE/dW^(i), the shape of weights[i]; db[i] = dE/db^(i), the shape of biases[i].
    """

    y: np.ndarray
    deltas: list
    dW: list
    db: list


def delta_rule(x, d, weights, biases):
    """Backpropagation by the delta rule: a sigmoid network and E = SSE.

    Layer 0 is the input x^(0) = x. weights[i] is the lecture's W^(i), which joins layer i to
    layer i + 1, stored transposed as (M_i, M_{i+1}) so that a batch of rows can go through it:
      a^(i+1) = x^(i) W^(i) + b^(i)  (the internal state),  x^(i+1) = f(a^(i+1)),  y = x^(I),
    with f the sigmoid and E = 1/2 sum_m ||d_m - y_m||^2 summed over the batch (so are the
    gradients, as the lecture's update sums dE_m/dw over the M samples). Then
      delta^(I) = (y - d) * f'(a^(I))
      delta^(i) = (delta^(i+1) W^(i)^T) * f'(a^(i))
      dE/dW^(i-1) = x^(i-1)^T delta^(i),  dE/db^(i-1) = delta^(i) summed over the batch.

    x: (N, M_0); d: (N, M_I); weights[i]: (M_i, M_{i+1}); biases[i]: (M_{i+1},).
    """
    xs, states = [np.asarray(x)], []  # xs[i] = x^(i), states[i] = a^(i+1)
    for W, b in zip(weights, biases):
        states.append(xs[-1] @ W + b)
        xs.append(sigmoid(states[-1]))
    y = xs.pop()
    deltas = [(y - d) * sigmoid_grad(states[-1])]
    for i in reversed(range(len(weights) - 1)):  # deltas[i] = delta^(i+1), last hidden first
        deltas.insert(0, (deltas[0] @ weights[i + 1].T) * sigmoid_grad(states[i]))
    dW = [x_prev.T @ delta for x_prev, delta in zip(xs, deltas)]
    return DeltaRuleGrads(y, deltas, dW, [delta.sum(axis=0) for delta in deltas])


# ---------------------------------------------------------------- layers


class Affine:
    """out = x W + b.

    W: (D, M), b: (M,), kept by reference so an optimizer's in-place update reaches the layer.
    forward x: (N, D) or (N, d1, d2, ...) with d1*d2*... = D, e.g. (N, C, H, W).
    backward sets dW (D, M) and db (M,), returns dx in x's original shape.
    """

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.x_shape = self.dW = self.db = None

    def forward(self, x):
        """x: (N, ...) -> out: (N, M)."""
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        """dout: (N, M) -> dx: the shape forward was given."""
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)


class ReLU:
    """out = max(0, x), any shape; backward passes dout where x > 0."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        """x: any shape -> out: same shape."""
        self.mask = x > 0
        return np.maximum(x, 0)  # ~10x faster than np.where on large float32 maps

    def backward(self, dout):
        """dout: forward's shape -> dx: same shape (a new array; dout is left alone)."""
        return dout * self.mask


class Sigmoid:
    """out = sigmoid(x), any shape; backward uses the cached output: dx = dout out (1 - out)."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        """x: any shape -> out: same shape."""
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        """dout: forward's shape -> dx: same shape."""
        return dout * self.out * (1.0 - self.out)


class Tanh:
    """out = tanh(x), any shape; backward uses the cached output: dx = dout (1 - out^2)."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        """x: any shape -> out: same shape."""
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        """dout: forward's shape -> dx: same shape."""
        return dout * (1.0 - self.out ** 2)


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error, mean over the batch.

    Together their gradient is simply (softmax(x) - t) / N, which is why they form one layer.
    """

    def __init__(self):
        self.y = self.t = self.loss = None

    def forward(self, x, t):
        """x: scores (N, C) or (C,); t: integer labels (N,) or one-hot (N, C) -> scalar loss."""
        self.y = softmax(x)
        self.t = _targets_as_probabilities(t, self.y)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1.0):
        """dout: scalar dL/dloss -> dx: x's shape."""
        batch_size = self.y.shape[0] if self.y.ndim == 2 else 1
        return dout * (self.y - self.t) / batch_size


# ---------------------------------------------------------------- a network of those layers

ACTIVATION_LAYERS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def init_std(weight_init_std, fan_in):
    """Standard deviation of the initial weights of a layer with fan_in inputs.

    "he": sqrt(2 / fan_in) (for ReLU); "xavier": sqrt(1 / fan_in) (for sigmoid, tanh);
    a number: that number.
    """
    if weight_init_std == "he":
        return np.sqrt(2.0 / fan_in)
    if weight_init_std == "xavier":
        return np.sqrt(1.0 / fan_in)
    return float(weight_init_std)


class MultiLayerNet:
    """Affine -> activation -> ... -> Affine -> SoftmaxWithLoss.

    params: {'W1': (input_size, hidden_sizes[0]), 'b1': (hidden_sizes[0],), ...,
    'WL': (hidden_sizes[-1], output_size), 'bL': (output_size,)}, float64, shared by reference
    with the layers so that ``optimizer.update(net.params, grads)`` trains the network.
    """

    def __init__(self, input_size, hidden_sizes, output_size, activation="relu",
                 weight_init_std="he", seed=0):
        if activation not in ACTIVATION_LAYERS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATION_LAYERS)}, "
                             f"got {activation!r}")
        rng = np.random.default_rng(seed)
        sizes = [input_size, *hidden_sizes, output_size]
        self.params, self.layers = {}, []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            std = init_std(weight_init_std, fan_in)
            self.params[f"W{i}"] = std * rng.standard_normal((fan_in, fan_out))
            self.params[f"b{i}"] = np.zeros(fan_out)
            self.layers.append(Affine(self.params[f"W{i}"], self.params[f"b{i}"]))
            self.layers.append(ACTIVATION_LAYERS[activation]())
        self.layers.pop()  # the last Affine feeds the softmax, not an activation
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        """x: (N, input_size) or (N, C, H, W) with C*H*W = input_size -> scores (N, output_size)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Cross-entropy loss for labels t (N,) or one-hot t (N, output_size); a float."""
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        """Fraction of the N samples whose highest score is the true class; t as in ``loss``."""
        t = np.asarray(t)
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        return float(np.mean(self.predict(x).argmax(axis=1) == labels))

    def gradient(self, x, t):
        """Gradients of ``loss`` by backpropagation: a dict with the keys and shapes of params."""
        self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        affines = [layer for layer in self.layers if isinstance(layer, Affine)]
        grads = {}
        for i, layer in enumerate(affines, start=1):
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return grads

    def numerical_gradient(self, x, t, h=1e-5):
        """The same dict as ``gradient``, by central differences (slow; for checking only)."""
        return {key: numerical_gradient(lambda _: self.loss(x, t), param, h)
                for key, param in self.params.items()}

    def weight_grad_norms(self, x, t):
        """[||dL/dW1||, ||dL/dW2||, ...], input layer first: shows vanishing gradients."""
        grads = self.gradient(x, t)
        return [float(np.linalg.norm(grads[f"W{i}"])) for i in range(1, len(grads) // 2 + 1)]


# ---------------------------------------------------------------- optimizers
# One interface, update(params, grads): params and grads are dicts of arrays with the same keys
# and shapes; every array of params is updated in place (the layers hold the same arrays), and
# any state is kept per key. The formulas are torch.optim's; the docstrings note differences.


def flush_subnormals(state):
    """Set the subnormal numbers of `state` (nonzero, below its dtype's smallest normal number,
    about 1.2e-38 in float32) to 0, in place.

    An optimizer's running average decays geometrically while its gradient stays 0 (the weights
    of a unit that never fires), and sinks into that range after some hundreds of steps (in a
    SimpleConvNet on MNIST, 186,379 numbers of Adam's m by step 800). A CPU computes with
    subnormal numbers many times slower: a float32 multiply of an array with 46 % of them took
    9x as long here. A step that small moves no weight: it is far below the weight's rounding,
    so flushing changes nothing but the time.
    """
    state[np.abs(state) < np.finfo(state.dtype).tiny] = 0


class SGD:
    """p <- p - lr g. Same as torch.optim.SGD(lr=lr)."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class Momentum:
    """v <- momentum v - lr g; p <- p + v (v starts at 0).

    torch.optim.SGD(lr, momentum) keeps u <- momentum u + g and does p <- p - lr u: with a
    constant lr, v = -lr u, so the steps are identical; they differ only if lr changes midway.
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * grads[key]
            flush_subnormals(v)
            params[key] += v


class AdaGrad:
    """s <- s + g^2; p <- p - lr g / (sqrt(s) + eps).

    Same as torch.optim.Adagrad(lr, eps=eps), eps added outside the square root; torch's
    default eps is 1e-10, this default (1e-7) is the textbook's.
    """

    def __init__(self, lr=0.01, eps=1e-7):
        self.lr, self.eps, self.s = lr, eps, {}

    def update(self, params, grads):
        for key in params:
            s = self.s.setdefault(key, np.zeros_like(params[key]))
            s += grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(s) + self.eps)


class RMSProp:
    """s <- decay_rate s + (1 - decay_rate) g^2; p <- p - lr g / (sqrt(s) + eps).

    Same as torch.optim.RMSprop(lr, alpha=decay_rate, eps=eps); torch's default eps is 1e-8,
    this default (1e-7) is the textbook's.
    """

    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-7):
        self.lr, self.decay_rate, self.eps, self.s = lr, decay_rate, eps, {}

    def update(self, params, grads):
        for key in params:
            s = self.s.setdefault(key, np.zeros_like(params[key]))
            s *= self.decay_rate
            s += (1.0 - self.decay_rate) * grads[key] ** 2
            flush_subnormals(s)
            params[key] -= self.lr * grads[key] / (np.sqrt(s) + self.eps)


class Adam:
    """Adam with bias correction, the same as torch.optim.Adam(lr, betas=(beta1, beta2), eps).

    m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2  (both start at 0)
    p <- p - lr m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)
    Without the correction the first step would be lr (1 - beta1) / sqrt(1 - beta2) (about
    3.16 lr for the defaults); with it the first step is ~lr in every coordinate.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.v = 0, {}, {}

    def update(self, params, grads):
        self.t += 1
        for key in params:
            m = self.m.setdefault(key, np.zeros_like(params[key]))
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            m *= self.beta1
            m += (1.0 - self.beta1) * grads[key]
            v *= self.beta2
            v += (1.0 - self.beta2) * grads[key] ** 2
            flush_subnormals(m)
            flush_subnormals(v)
            m_hat = m / (1.0 - self.beta1 ** self.t)
            v_hat = v / (1.0 - self.beta2 ** self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# ---------------------------------------------------------------- optimizers on a 2-D valley
# f(x, y) = x^2 / 20 + y^2 is twenty times steeper across the valley (y) than along it (x): the
# textbook picture of why plain SGD zigzags and the adaptive methods do not.

OPTIMIZERS = {"SGD": SGD, "Momentum": Momentum, "AdaGrad": AdaGrad, "RMSProp": RMSProp,
              "Adam": Adam}
# Learning rates at which each optimizer's path on the valley is easy to read (the textbook's
# figure uses the same rates for SGD, Momentum, AdaGrad and Adam).
PATH_LRS = {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "RMSProp": 0.15, "Adam": 0.3}
PATH_START = (-7.0, 2.0)


def valley(x, y):
    """f(x, y) = x^2 / 20 + y^2, elementwise; its minimum is f(0, 0) = 0."""
    return x ** 2 / 20.0 + y ** 2


def valley_grad(x, y):
    """The gradient (df/dx, df/dy) = (x / 10, 2 y) of ``valley`` at one point, shape (2,)."""
    return np.array([x / 10.0, 2.0 * y])


def optimizer_path(optimizer, start=PATH_START, steps=30, grad=valley_grad):
    """The points an optimizer visits while it minimizes a function of (x, y).

    optimizer: any object of this module's interface, ``update(params, grads)``.
    grad(x, y) -> array (2,). Returns an array (steps + 1, 2): the start, then one row a step.
    """
    point = np.array(start, dtype=float)
    params, path = {"xy": point}, [point.copy()]
    for _ in range(steps):
        optimizer.update(params, {"xy": grad(*point)})
        path.append(point.copy())
    return np.array(path)


def optimizer_paths(lr=None, names=tuple(OPTIMIZERS), start=PATH_START, steps=30):
    """{name: optimizer_path(...)} for the optimizers ``names`` on ``valley``.

    lr: None gives each optimizer its rate from ``PATH_LRS``; a number races them all at it.
    The other hyperparameters are each class's defaults.
    """
    return {name: optimizer_path(OPTIMIZERS[name](lr=PATH_LRS[name] if lr is None else lr),
                                 start, steps)
            for name in names}
