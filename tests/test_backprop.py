"""labutils.backprop against PyTorch autograd and torch.optim, in float64.

Every expectation is computed by a reference at test time (torch, or central differences);
inputs come from hypothesis (derandomized) or a seeded generator, so every run is the same.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from labutils import backprop as bp
from labutils import grading
from labutils.grading import torch_leaf

DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=25)
TIGHT = {"rtol": 1e-10, "atol": 1e-12}  # numpy vs torch, same float64 formulas
LAYOUTS = ["contiguous", "transposed", "strided"]


def random_array(seed, shape, layout="contiguous", scale=3.0):
    """grading.random_array, by default at scale 3: activations see their tails (saturation)."""
    return grading.random_array(seed, shape, layout, scale)


def autograd_derivative(torch_fn, x):
    """Elementwise derivative of torch_fn at x by autograd."""
    xt = torch_leaf(x)
    torch_fn(xt).sum().backward()
    return xt.grad.numpy()


seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 5)
layouts = st.sampled_from(LAYOUTS)

# ---------------------------------------------------------------- activations

ACTIVATIONS = [
    (bp.sigmoid, bp.sigmoid_grad, torch.sigmoid),
    (bp.tanh, bp.tanh_grad, torch.tanh),
    (bp.relu, bp.relu_grad, torch.relu),
]


@pytest.mark.parametrize("fn, grad, torch_fn", ACTIVATIONS, ids=["sigmoid", "tanh", "relu"])
@DETERMINISTIC
@given(seed=seeds, n=sizes, m=sizes, layout=layouts)
def test_activation_and_derivative_match_torch(fn, grad, torch_fn, seed, n, m, layout):
    """Value and derivative of each activation equal torch's value and autograd derivative."""
    x = random_array(seed, (n, m), layout)
    expected = torch_fn(torch.tensor(x)).numpy()
    np.testing.assert_allclose(fn(x), expected, **TIGHT)
    np.testing.assert_allclose(grad(x), autograd_derivative(torch_fn, x), **TIGHT)


def test_step_matches_heaviside_and_relu_grad_is_zero_at_zero():
    x = np.array([-2.0, -0.0, 0.0, 1e-300, 3.0])
    expected = torch.heaviside(torch.tensor(x), torch.tensor(0.0, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(bp.step(x), expected, rtol=0, atol=0)
    np.testing.assert_allclose(bp.relu_grad(x), autograd_derivative(torch.relu, x), rtol=0, atol=0)


def test_sigmoid_does_not_overflow_for_extreme_logits():
    x = np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, ds = bp.sigmoid(x), bp.sigmoid_grad(x)
    np.testing.assert_allclose(s, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ds, autograd_derivative(torch.sigmoid, x), rtol=1e-12, atol=1e-300)


@DETERMINISTIC
@given(seed=seeds, n=sizes, c=st.integers(2, 6), layout=layouts)
def test_softmax_matches_torch_for_1d_and_2d(seed, n, c, layout):
    x = random_array(seed, (n, c), layout, scale=10.0)
    np.testing.assert_allclose(bp.softmax(x), torch.softmax(torch.tensor(x), dim=-1).numpy(),
                               **TIGHT)
    np.testing.assert_allclose(bp.softmax(x[0]), torch.softmax(torch.tensor(x[0]), dim=-1).numpy(),
                               **TIGHT)


@pytest.mark.parametrize("x", [
    [[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 0.0, -1000.0]],
    [1000.0, 999.0, -1000.0],
], ids=["2d", "1d"])
def test_softmax_is_stable_for_logits_of_1000(x):
    x = np.array(x)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = bp.softmax(x)
    expected = torch.softmax(torch.tensor(x), dim=-1).numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-15)

# ---------------------------------------------------------------- losses


@DETERMINISTIC
@given(seed=seeds, n=sizes, c=st.integers(2, 6))
def test_cross_entropy_labels_and_one_hot_agree_with_torch(seed, n, c):
    logits = random_array(seed, (n, c))
    labels = np.random.default_rng(seed).integers(0, c, size=n)
    y = bp.softmax(logits)
    from_labels = bp.cross_entropy_error(y, labels)
    from_one_hot = bp.cross_entropy_error(y, np.eye(c)[labels])
    expected = F.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item()
    nll = F.nll_loss(torch.log(torch.tensor(y)), torch.tensor(labels)).item()
    np.testing.assert_allclose([from_labels, from_one_hot, nll], expected, rtol=1e-10, atol=1e-12)
    single = F.cross_entropy(torch.tensor(logits[0]), torch.tensor(labels[0])).item()
    np.testing.assert_allclose(bp.cross_entropy_error(y[0], labels[0]), single, rtol=1e-10)


def test_cross_entropy_of_a_zero_probability_is_large_but_finite():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = bp.cross_entropy_error(np.array([[0.0, 1.0], [0.5, 0.5]]), np.array([0, 1]))
    assert np.isfinite(loss) and loss > 300


@DETERMINISTIC
@given(seed=seeds, n=sizes, m=sizes)
def test_sum_squared_error_is_half_the_summed_squares_over_the_batch(seed, n, m):
    y, d = random_array(seed, (n, m)), random_array(seed + 1, (n, m))
    expected = 0.5 * F.mse_loss(torch.tensor(y), torch.tensor(d), reduction="sum").item()
    np.testing.assert_allclose(bp.sum_squared_error(y, d), expected, rtol=1e-12)

# ---------------------------------------------------------------- layers


def check_layer_against_torch(layer, torch_fn, x, dout):
    """forward and backward of a layer equal torch's; neither x nor dout is modified."""
    x_before, dout_before = x.copy(), dout.copy()
    xt = torch_leaf(x)
    expected = torch_fn(xt)
    expected.backward(torch.tensor(dout))
    np.testing.assert_allclose(layer.forward(x), expected.detach().numpy(), **TIGHT)
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TIGHT)
    np.testing.assert_array_equal(x, x_before)  # bit-identical: nothing may write into them
    np.testing.assert_array_equal(dout, dout_before)


@pytest.mark.parametrize("layer_class, torch_fn", [(bp.ReLU, torch.relu),
                                                   (bp.Sigmoid, torch.sigmoid),
                                                   (bp.Tanh, torch.tanh)],
                         ids=["ReLU", "Sigmoid", "Tanh"])
@DETERMINISTIC
@given(seed=seeds, shape=st.lists(sizes, min_size=1, max_size=4), layout=layouts)
@example(seed=0, shape=[1, 4], layout="transposed")  # a batch of 1, non-contiguous
def test_activation_layers_match_torch(layer_class, torch_fn, seed, shape, layout):
    shape = tuple(shape)
    x = random_array(seed, shape, layout)
    dout = random_array(seed + 1, shape, layout)
    check_layer_against_torch(layer_class(), torch_fn, x, dout)


@DETERMINISTIC
@given(seed=seeds, n=sizes, feature_shape=st.lists(sizes, min_size=1, max_size=3),
       m=sizes, layout=layouts)
@example(seed=0, n=1, feature_shape=[2, 3, 2], m=3, layout="strided")  # (1, C, H, W) strided
def test_affine_matches_torch_and_returns_dx_in_input_shape(seed, n, feature_shape, m, layout):
    """Affine on (N, D) and (N, C, H, W)-like input, batch of 1 and non-contiguous included."""
    x = random_array(seed, (n, *feature_shape), layout)
    d = int(np.prod(feature_shape))
    W, b = random_array(seed + 1, (d, m)), random_array(seed + 2, (m,))
    dout = random_array(seed + 3, (n, m), layout)
    Wt, bt = torch_leaf(W), torch_leaf(b)
    layer = bp.Affine(W, b)
    check_layer_against_torch(layer, lambda xt: xt.reshape(n, -1) @ Wt + bt, x, dout)
    np.testing.assert_allclose(layer.dW, Wt.grad.numpy(), **TIGHT)
    np.testing.assert_allclose(layer.db, bt.grad.numpy(), **TIGHT)


@DETERMINISTIC
@given(seed=seeds, n=sizes, c=st.integers(2, 6), one_hot=st.booleans(),
       dout=st.sampled_from([1.0, 2.5]))
def test_softmax_with_loss_matches_torch_cross_entropy(seed, n, c, one_hot, dout):
    x = random_array(seed, (n, c), "transposed")
    labels = np.random.default_rng(seed).integers(0, c, size=n)
    xt = torch_leaf(x)
    expected = F.cross_entropy(xt, torch.tensor(labels))
    (dout * expected).backward()
    layer = bp.SoftmaxWithLoss()
    loss = layer.forward(x, np.eye(c)[labels] if one_hot else labels)
    np.testing.assert_allclose(loss, expected.item(), **TIGHT)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), **TIGHT)


def test_softmax_with_loss_accepts_a_single_sample():
    x = np.array([1.0, -2.0, 0.5])
    xt = torch_leaf(x)
    F.cross_entropy(xt, torch.tensor(2)).backward()
    layer = bp.SoftmaxWithLoss()
    layer.forward(x, 2)
    np.testing.assert_allclose(layer.backward(), xt.grad.numpy(), **TIGHT)

# ---------------------------------------------------------------- gradient checking


FUNCTIONS = [  # (f, its analytic gradient)
    (lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2),
    (lambda x: np.sum(np.sin(x) * x), lambda x: np.cos(x) * x + np.sin(x)),
    (lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.sum(np.exp(x))),
]


@pytest.mark.parametrize("f, analytic", FUNCTIONS, ids=["cube", "x_sin_x", "logsumexp"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_numerical_gradient_matches_analytic_and_restores_x(f, analytic, layout):
    x = random_array(7, (3, 2, 4), layout, scale=1.0)
    x_before = x.copy()
    numeric = grading.numerical_gradient(f, x)
    assert numeric.shape == x.shape
    np.testing.assert_allclose(numeric, analytic(x), rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, x_before)  # restored bit for bit, not approximately


def test_numerical_gradient_perturbs_a_view_in_its_base_array():
    holder = np.arange(12.0).reshape(3, 4)
    column = holder[:, 1]
    seen = []
    grading.numerical_gradient(lambda v: seen.append(holder.sum()) or v.sum(), column)
    np.testing.assert_allclose(seen, [66 + 1e-5, 66 - 1e-5] * 3, rtol=0, atol=1e-9)


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(TypeError, match="float"):
        grading.numerical_gradient(np.sum, np.arange(3))


def test_rel_error_values():
    np.testing.assert_allclose(grading.rel_error(np.array([1.0, 0.0]), np.array([3.0, 0.0])), 0.5)
    np.testing.assert_allclose(grading.rel_error(0.0, 1e-12), 1e-4)  # the 1e-8 floor
    assert isinstance(grading.rel_error(np.ones(2), np.ones(2)), float)
    assert grading.rel_error(np.ones(2), np.ones(2)) < 1e-15


@pytest.mark.parametrize("planted", [(0, 0), (1, 2), (2, 3)])
def test_gradient_check_finds_a_planted_error(planted):
    f, analytic = FUNCTIONS[1]
    x = random_array(3, (3, 4), scale=1.0)
    good = grading.gradient_check(f, x, analytic(x))
    assert good.max_rel_error < 1e-8
    wrong = analytic(x)
    wrong[planted] += 0.5
    report = grading.gradient_check(f, x, wrong)
    assert report.worst_index == planted
    assert report.max_rel_error > 1e-2
    np.testing.assert_allclose(report.analytic, wrong[planted], rtol=1e-15)
    np.testing.assert_allclose(report.numeric, analytic(x)[planted], rtol=1e-8)
    assert str(planted) in str(report) and "relative error" in str(report)


def test_gradient_check_never_prints(capsys):
    x = np.ones(3)
    grading.gradient_check(np.sum, x, np.ones(3))
    assert capsys.readouterr().out == ""

# ---------------------------------------------------------------- MultiLayerNet


def torch_net_gradients(net, x, t, activation):
    """Gradients of net's loss by torch autograd on copies of its params."""
    params = {key: torch_leaf(value) for key, value in net.params.items()}
    h = torch.tensor(x.reshape(len(x), -1))
    layer_count = len(params) // 2
    for i in range(1, layer_count + 1):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < layer_count:
            h = getattr(torch, activation)(h)
    loss = F.cross_entropy(h, torch.tensor(t))
    loss.backward()
    return loss.item(), {key: p.grad.numpy() for key, p in params.items()}


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_multilayer_net_gradient_matches_torch_and_numerical(activation):
    net = bp.MultiLayerNet(12, [6, 5], 4, activation=activation, weight_init_std=0.5, seed=1)
    x = random_array(2, (3, 3, 2, 2), "transposed")  # (N, C, H, W), flattened by Affine
    t = np.array([0, 3, 1])
    grads = net.gradient(x, t)
    loss, expected = torch_net_gradients(net, x, t, activation)
    np.testing.assert_allclose(net.loss(x, t), loss, **TIGHT)
    numeric = net.numerical_gradient(x, t)
    assert grads.keys() == expected.keys() == numeric.keys() == net.params.keys()
    for key in grads:
        assert grads[key].shape == net.params[key].shape
        np.testing.assert_allclose(grads[key], expected[key], **TIGHT)
        assert grading.rel_error(grads[key], numeric[key]) < 1e-5, key


@pytest.mark.parametrize("init, fan_in_factor", [("he", 2.0), ("xavier", 1.0)])
def test_multilayer_net_initial_weight_scale(init, fan_in_factor):
    net = bp.MultiLayerNet(400, [300], 10, weight_init_std=init)
    np.testing.assert_allclose(net.params["W1"].std(), np.sqrt(fan_in_factor / 400), rtol=0.02)
    np.testing.assert_allclose(net.params["W2"].std(), np.sqrt(fan_in_factor / 300), rtol=0.05)
    np.testing.assert_allclose(bp.MultiLayerNet(400, [300], 10, weight_init_std=0.01)
                               .params["W1"].std(), 0.01, rtol=0.02)
    np.testing.assert_allclose(net.params["b1"], np.zeros(300), rtol=0, atol=0)


def test_multilayer_net_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        bp.MultiLayerNet(4, [3], 2, activation="softplus")


def test_multilayer_net_accuracy_takes_labels_or_one_hot():
    net = bp.MultiLayerNet(5, [4], 3, seed=3)
    x = random_array(4, (20, 5))
    predicted = net.predict(x).argmax(axis=1)
    t = predicted.copy()
    t[:5] = (t[:5] + 1) % 3
    np.testing.assert_allclose(net.accuracy(x, t), 0.75)
    np.testing.assert_allclose(net.accuracy(x, np.eye(3)[t]), 0.75)


def test_optimizer_steps_reach_the_layers_and_lower_the_loss():
    """params are shared with the layers, so an in-place update changes what predict computes."""
    net = bp.MultiLayerNet(4, [8], 3, seed=0)
    x = random_array(5, (30, 4))
    t = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    first = net.loss(x, t)
    optimizer = bp.SGD(lr=0.1)
    for _ in range(50):
        optimizer.update(net.params, net.gradient(x, t))
    assert net.loss(x, t) < 0.8 * first


def test_weight_grad_norms_are_the_norms_of_the_weight_gradients():
    net = bp.MultiLayerNet(6, [5, 5, 5], 3, activation="sigmoid", weight_init_std="xavier")
    x, t = random_array(6, (4, 6)), np.array([0, 1, 2, 0])
    grads = net.gradient(x, t)
    expected = [np.linalg.norm(grads[f"W{i}"]) for i in (1, 2, 3, 4)]
    np.testing.assert_allclose(net.weight_grad_norms(x, t), expected, rtol=1e-12)


def test_sigmoid_gradients_vanish_towards_the_input_and_relu_ones_less():
    x, t = random_array(8, (16, 10)), np.arange(16) % 4
    sigmoid = bp.MultiLayerNet(10, [10] * 6, 4, activation="sigmoid", weight_init_std="xavier")
    relu = bp.MultiLayerNet(10, [10] * 6, 4, activation="relu", weight_init_std="he")
    sigmoid_norms, relu_norms = sigmoid.weight_grad_norms(x, t), relu.weight_grad_norms(x, t)
    assert sigmoid_norms[0] < 0.1 * sigmoid_norms[-1]
    assert sigmoid_norms[0] / sigmoid_norms[-1] < relu_norms[0] / relu_norms[-1]

# ---------------------------------------------------------------- the delta rule


@DETERMINISTIC
@given(seed=seeds, n=sizes, widths=st.lists(sizes, min_size=2, max_size=5))
def test_delta_rule_matches_torch_autograd(seed, n, widths):
    """delta = dE/db and dE/dW of the lecture's sigmoid network with E = SSE summed over N."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((a, b)) for a, b in zip(widths[:-1], widths[1:])]
    biases = [rng.standard_normal(b) for b in widths[1:]]
    x, d = rng.standard_normal((n, widths[0])), rng.uniform(size=(n, widths[-1]))
    result = bp.delta_rule(x, d, weights, biases)

    Wt, bt = [torch_leaf(w) for w in weights], [torch_leaf(b) for b in biases]
    h, pre_activations = torch.tensor(x), []
    for W, b in zip(Wt, bt):
        pre_activations.append(h @ W + b)
        pre_activations[-1].retain_grad()
        h = torch.sigmoid(pre_activations[-1])
    (0.5 * ((torch.tensor(d) - h) ** 2).sum()).backward()

    np.testing.assert_allclose(result.y, h.detach().numpy(), **TIGHT)
    for i in range(len(weights)):
        np.testing.assert_allclose(result.deltas[i], pre_activations[i].grad.numpy(), **TIGHT)
        np.testing.assert_allclose(result.dW[i], Wt[i].grad.numpy(), **TIGHT)
        np.testing.assert_allclose(result.db[i], bt[i].grad.numpy(), **TIGHT)

# ---------------------------------------------------------------- optimizers

OPTIMIZERS = {  # ours, and torch.optim's equivalent
    "SGD": (lambda: bp.SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "Momentum": (lambda: bp.Momentum(lr=0.1, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "AdaGrad": (lambda: bp.AdaGrad(lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-7)),
    "RMSProp": (lambda: bp.RMSProp(lr=0.01, decay_rate=0.9),
                lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7)),
    "Adam": (lambda: bp.Adam(lr=0.01, beta1=0.8, beta2=0.99),
             lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99))),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_torch_optim_over_several_steps(name):
    make_ours, make_torch = OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    arrays = dict(params)  # the same array objects, to see that updates happen in place
    torch_params = {key: torch.tensor(value, requires_grad=True) for key, value in params.items()}
    ours, theirs = make_ours(), make_torch(list(torch_params.values()))
    for _ in range(5):
        grads = {key: rng.standard_normal(value.shape) for key, value in params.items()}
        ours.update(params, grads)
        for key, p in torch_params.items():
            p.grad = torch.tensor(grads[key])
        theirs.step()
    for key, p in torch_params.items():
        assert params[key] is arrays[key]
        np.testing.assert_allclose(params[key], p.detach().numpy(), rtol=1e-10, atol=1e-12)


def subnormal_count(a):
    return int(np.sum((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))


def test_flush_subnormals_zeroes_only_the_subnormal_numbers():
    tiny = np.finfo(np.float32).tiny
    state = np.array([tiny / 4, -tiny / 1024, tiny, -2 * tiny, 0.0, 1.5], dtype=np.float32)
    bp.flush_subnormals(state)
    np.testing.assert_array_equal(state, np.array([0, 0, tiny, -2 * tiny, 0, 1.5], np.float32))


@pytest.mark.parametrize("name", ["Momentum", "RMSProp", "Adam"])
def test_the_state_of_a_silent_weight_decays_without_subnormals_and_moves_nothing(name):
    """One gradient, then 1,500 zero gradients (a unit that stopped firing), in float32: the
    decaying state never holds a subnormal number (slow on CPUs), and the weights end exactly
    where an optimizer that keeps the subnormals puts them."""
    def run(flush):
        optimizer = OPTIMIZERS[name][0]()
        params = {"w": np.linspace(-1, 1, 7, dtype=np.float32)}
        grads = {"w": np.linspace(0.5, -0.5, 7, dtype=np.float32)}
        subnormals = 0
        with pytest.MonkeyPatch.context() as patch:
            if not flush:
                patch.setattr(bp, "flush_subnormals", lambda state: None)
            for step in range(1500):
                optimizer.update(params, grads)
                grads = {"w": np.zeros(7, dtype=np.float32)}
                states = [getattr(optimizer, attr) for attr in ("v", "s", "m")
                          if hasattr(optimizer, attr)]
                subnormals += sum(subnormal_count(state["w"]) for state in states)
        return params["w"], subnormals

    flushed, subnormals = run(flush=True)
    kept, kept_subnormals = run(flush=False)
    assert subnormals == 0
    assert kept_subnormals > 0  # the case is real: without the flush the state goes subnormal
    np.testing.assert_array_equal(flushed, kept)


def test_adam_first_step_is_about_lr_thanks_to_bias_correction():
    params = {"w": np.array([1.0, -2.0, 3.0])}
    bp.Adam(lr=0.001).update(params, {"w": np.array([0.5, -10.0, 1e-3])})
    np.testing.assert_allclose(params["w"], [1.0 - 0.001, -2.0 + 0.001, 3.0 - 0.001], rtol=1e-6)


def test_the_layouts_used_above_are_really_not_c_contiguous():
    """Guards the tests themselves: 'transposed' and 'strided' must exercise strided input."""
    for layout in ["transposed", "strided"]:
        assert not random_array(0, (3, 4), layout).flags.c_contiguous


def test_backprop_module_uses_numpy_only():
    """The reference implementation must not lean on torch: its imports are read from source."""
    import ast
    tree = ast.parse(open(bp.__file__, encoding="utf-8").read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"dataclasses", "numpy", "labutils"}, imported

# ---------------------------------------------------------------- optimizer paths on the valley


def test_valley_grad_matches_central_differences():
    point = np.array([-7.0, 2.0])
    numeric = grading.numerical_gradient(lambda p: bp.valley(*p), point)
    np.testing.assert_allclose(bp.valley_grad(*point), numeric, rtol=1e-8)
    assert bp.valley(0.0, 0.0) == 0.0


def test_sgd_path_is_the_manual_gradient_descent():
    lr, steps = 0.3, 12
    path = bp.optimizer_path(bp.SGD(lr=lr), start=(-7.0, 2.0), steps=steps)
    expected = [np.array([-7.0, 2.0])]
    for _ in range(steps):
        x, y = expected[-1]
        expected.append(np.array([x - lr * x / 10.0, y - lr * 2.0 * y]))
    assert path.shape == (steps + 1, 2)
    np.testing.assert_allclose(path, expected, rtol=1e-14, atol=0)


def test_adam_path_first_step_is_lr_in_each_coordinate():
    """The gradient at (-7, 2) is (-0.7, 4): bias-corrected Adam moves both by lr, downhill."""
    path = bp.optimizer_path(bp.Adam(lr=0.3), steps=1)
    np.testing.assert_allclose(path[1] - path[0], [0.3, -0.3], rtol=1e-6)


def test_optimizer_paths_use_their_rates_or_one_shared_rate():
    default = bp.optimizer_paths(steps=5)
    assert list(default) == list(bp.OPTIMIZERS) == list(bp.PATH_LRS)
    for name, path in default.items():
        alone = bp.optimizer_path(bp.OPTIMIZERS[name](lr=bp.PATH_LRS[name]), steps=5)
        np.testing.assert_array_equal(path, alone)
        np.testing.assert_array_equal(path[0], bp.PATH_START)
    shared = bp.optimizer_paths(lr=0.05, names=["SGD", "Adam"], steps=5)
    assert list(shared) == ["SGD", "Adam"]
    np.testing.assert_array_equal(shared["SGD"], bp.optimizer_path(bp.SGD(lr=0.05), steps=5))


def test_every_optimizer_descends_the_valley_at_its_rate():
    start = bp.valley(*bp.PATH_START)
    for name, path in bp.optimizer_paths(steps=30).items():
        assert bp.valley(*path[-1]) < 0.05 * start, name


def test_optimizer_race_draws_a_static_figure(monkeypatch):
    import matplotlib.pyplot as plt
    from labutils import widgets
    monkeypatch.setenv(widgets.HEADLESS_ENV, "1")
    monkeypatch.setattr(plt, "show", lambda: None)  # keep the figure open to inspect it
    assert widgets.optimizer_race(lr=0.1, steps=7, names=("SGD", "Adam")) is None
    ax_path, ax_f = plt.gcf().axes
    assert ax_path.get_title() == "lr = 0.1, 7 steps"
    assert [line.get_label() for line in ax_f.get_lines()] == ["SGD", "Adam"]
    assert len(ax_f.get_lines()[0].get_xdata()) == 8
