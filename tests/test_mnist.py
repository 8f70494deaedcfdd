"""labutils.mnist: the lecture networks to spec (shapes, parameter counts) and the layer table."""

import pytest
import torch
from torch import nn

from labutils import mnist, train


def images(n=3, seed=0):
    return torch.randn((n, *mnist.IMAGE_SHAPE), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name, expected", [
    ("mlp_sigmoid", 1_238_730),  # lecture 4: 784*784+784 twice, then 784*10+10
    ("mlp_relu", 1_238_730),
    ("plain_cnn", 1_199_882),     # 320 + 18,496 + 1,179,776 + 1,290
    ("fast_cnn", 206_970),
    ("large_cnn", 3_266_730),    # 320 + 18,496 + 9216*352+352 + 352*10+10
])
def test_parameter_counts(name, expected):
    assert train.count_parameters(mnist.MODELS[name]()) == expected


@pytest.mark.parametrize("name", sorted(mnist.MODELS))
def test_every_model_gives_log_probabilities_for_ten_classes(name):
    model = mnist.MODELS[name]().eval()
    with torch.no_grad():
        out = model(images())
    assert out.shape == (3, mnist.NUM_CLASSES)
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(3))


def test_seed_mlp_uses_sigmoid_and_the_relu_variant_relu():
    kinds = lambda model: {type(m) for m in model}  # noqa: E731
    assert nn.Sigmoid in kinds(mnist.mlp()) and nn.ReLU not in kinds(mnist.mlp())
    assert nn.ReLU in kinds(mnist.mlp("relu")) and nn.Sigmoid not in kinds(mnist.mlp("relu"))
    with pytest.raises(ValueError, match="activation must be one of"):
        mnist.mlp("softplus")


def test_summary_of_the_plain_cnn_is_the_lecture_table():
    model = mnist.plain_cnn().train()
    rows = mnist.summary(model)
    assert [row["output"] for row in rows] == [
        (32, 26, 26), (32, 26, 26), (64, 24, 24), (64, 24, 24), (64, 12, 12), (9216,),
        (128,), (128,), (10,), (10,)]
    assert [row["parameters"] for row in rows] == [320, 0, 18_496, 0, 0, 0, 1_179_776, 0,
                                                   1_290, 0]
    assert rows[0]["layer"] == "0 (Conv2d)"
    assert model.training  # the mode is left as it was


def test_summary_counts_frozen_parameters_apart():
    model = mnist.fast_cnn(8)
    for p in model[0].parameters():
        p.requires_grad_(False)
    rows = mnist.summary(model)
    assert sum(r["parameters"] for r in rows) == train.count_parameters(model)
    assert sum(r["trainable"] for r in rows) == train.count_parameters(model, trainable_only=True)
    text = mnist.format_summary(rows)
    frozen = model[0].weight.numel()
    assert f"non-trainable parameters: {frozen:,}" in text
    assert f"total parameters: {train.count_parameters(model):,}" in text


def test_fast_cnn_learns_a_small_batch():
    """20 Adam steps memorise 64 random images with arbitrary labels (gradients flow through
    every block; with a broken layer the loss stays near ln 10 = 2.3)."""
    torch.manual_seed(0)
    model, x = mnist.fast_cnn(8), images(64)
    y = torch.arange(64) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(20):
        loss = nn.functional.nll_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 2.0 and losses[-1] < 0.5


def test_large_cnn_options_add_their_layers_and_keep_the_function_shape():
    plain, regular = mnist.large_cnn(), mnist.large_cnn(dropout=0.5, batch_norm=True)
    kinds = lambda model: [type(m) for m in model]  # noqa: E731
    assert nn.Dropout not in kinds(plain) and nn.BatchNorm2d not in kinds(plain)
    assert kinds(regular).count(nn.Dropout) == 2 and kinds(regular).count(nn.BatchNorm2d) == 2
    # batch norm replaces the convolutions' biases by its own shift: 32 + 64 biases fewer,
    # 2 * (32 + 64) batch-norm parameters more
    assert (train.count_parameters(regular)
            == train.count_parameters(plain) - (32 + 64) + 2 * (32 + 64))
    assert regular.eval()(images(2)).shape == (2, mnist.NUM_CLASSES)


@pytest.mark.parametrize("variant", sorted(mnist.REPORT_KERAS_COUNTS))
def test_keras_report_cnn_has_the_reports_keras_counts(variant):
    model = mnist.keras_report_cnn(variant).eval()
    total, non_trainable = mnist.REPORT_KERAS_COUNTS[variant]
    assert mnist.keras_counts(model) == {"total": total, "non_trainable": non_trainable}
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 128, 128)).shape == (2, 2)


def test_batch_norm_counts_twice_as_much_in_keras_as_in_pytorch():
    model = mnist.keras_report_cnn("batch norm")
    channels = 32 + 64 + 128 + 128
    pytorch = train.count_parameters(model)
    assert pytorch == mnist.REPORT_KERAS_COUNTS["dropout"][0] + 2 * channels  # gamma, beta
    assert mnist.keras_counts(model)["total"] == pytorch + 2 * channels  # + mean, variance


def test_keras_counts_frozen_parameters_as_non_trainable():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    model[0].requires_grad_(False)
    assert mnist.keras_counts(model) == {"total": 15 + 6 + 6, "non_trainable": 15 + 6}


def test_keras_report_cnn_refuses_an_unknown_variant():
    with pytest.raises(ValueError, match="variant must be one of"):
        mnist.keras_report_cnn("augmentation")
