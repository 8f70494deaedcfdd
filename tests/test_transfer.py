"""labutils.transfer: the report's Keras parameter counts, VGG16's blocks, freezing, staged weights.

VGG16 is large (138 M parameters with torchvision's classifier), so the file builds it once:
``random_vgg`` is staged as a checkpoint first, then becomes the report's network (its 1000-class
classifier replaced by Flatten -> Dropout -> Linear(8192, 2)) for the other tests.
"""

import copy
import math
import os
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from labutils import mnist, train, transfer
from labutils.grading import tensors_digest

# (in, out) channels of VGG16's 13 convolutions, written out from the paper's configuration D.
VGG16_CONVS = [(3, 64), (64, 64),
               (64, 128), (128, 128),
               (128, 256), (256, 256), (256, 256),
               (256, 512), (512, 512), (512, 512),
               (512, 512), (512, 512), (512, 512)]
HEAD = {"classifier.2.weight", "classifier.2.bias"}
BLOCK_CONVS = {"block1": [0, 2], "block2": [5, 7], "block3": [10, 12, 14],
               "block4": [17, 19, 21], "block5": [24, 26, 28]}


def conv_names(block):
    return {f"features.{i}.{kind}" for i in BLOCK_CONVS[block] for kind in ("weight", "bias")}




def trainable_names(model):
    return {name for name, p in model.named_parameters() if p.requires_grad}


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """A TORCH_HOME holding a checkpoint of RANDOM VGG16 weights, the model they came from, and
    the SHA-256 of its state dict plus clones of a few tensors to compare a load against."""
    home = tmp_path_factory.mktemp("torch_home")
    with pytest.MonkeyPatch.context() as patch:  # random weights need no staged file
        patch.setattr(torch.hub, "_hub_dir", None)
        patch.setenv("TORCH_HOME", str(home))
        assert not transfer.weights_available()
        model = transfer.vgg16(pretrained=False)  # torchvision.models.vgg16(weights=None)
    assert type(model) is torchvision.models.VGG and len(model.features) == 31
    state = model.state_dict()
    path = home / "hub" / "checkpoints" / transfer.WEIGHTS_FILE
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    names = ["features.0.weight", "features.28.bias", "classifier.6.weight", "classifier.6.bias"]
    reference = {name: state[name].clone() for name in names}
    yield {"home": home, "model": model, "digest": tensors_digest(state.values()),
           "reference": reference, "keys": list(state)}
    path.unlink()  # 528 MB: do not leave it in pytest's kept temporary folders


@pytest.fixture(scope="module")
def seed_model(staged):
    """The report's network: VGG16's conv base + Flatten -> Dropout -> Linear(8192, 2)."""
    return transfer.replace_head(staged["model"], num_classes=2, input_size=128)


@pytest.fixture
def model(seed_model):
    """The shared network of the report, everything trainable again (tests change requires_grad)."""
    return transfer.unfreeze(seed_model)


@pytest.fixture
def torch_home(monkeypatch):
    """Point torch.hub at $TORCH_HOME/hub whatever torch.hub.set_dir did before."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)

    def use(home):
        monkeypatch.setenv("TORCH_HOME", str(home))
        assert Path(torch.hub.get_dir()) == Path(home) / "hub"
        return Path(home) / "hub" / "checkpoints" / transfer.WEIGHTS_FILE
    return use


# --- the report's numbers ----------------------------------------------------------------------

def test_keras_numbers_follow_from_the_layer_shapes():
    conv = [9 * cin * cout + cout for cin, cout in VGG16_CONVS]
    head = 512 * 4 * 4 * 2 + 2
    assert sum(conv) == transfer.KERAS_VGG16_COUNTS["base"] == 14_714_688
    assert sum(conv) + head == transfer.KERAS_VGG16_COUNTS["total"] == 14_731_074
    assert head == transfer.KERAS_VGG16_COUNTS["frozen"] == 16_386
    assert sum(conv[-3:]) + head == transfer.KERAS_VGG16_COUNTS["block5"] == 7_095_810


def test_counts_of_the_pytorch_model_are_the_keras_counts(model):
    shapes = sum(math.prod(p.shape) for p in model.parameters())
    base = sum(math.prod(p.shape) for p in model.features.parameters())
    assert base == train.count_parameters(model.features) == transfer.KERAS_VGG16_COUNTS["base"]
    total = transfer.KERAS_VGG16_COUNTS["total"]
    assert transfer.counts(model) == {"total": total, "trainable": total, "non_trainable": 0}
    assert shapes == total

    transfer.freeze_features(model)
    keras = transfer.KERAS_VGG16_COUNTS
    assert transfer.counts(model) == {"total": total, "trainable": keras["frozen"],
                                      "non_trainable": keras["base"]}

    transfer.unfreeze_block(model, "block5")
    assert transfer.counts(model)["trainable"] == transfer.KERAS_VGG16_COUNTS["block5"]
    assert transfer.counts(model)["non_trainable"] == total - transfer.KERAS_VGG16_COUNTS["block5"]


def test_parameter_table_is_the_mnist_summary_with_trainable_counts(model):
    transfer.freeze_features(model)
    rows = transfer.parameter_table(model)
    assert sum(row["parameters"] for row in rows) == transfer.KERAS_VGG16_COUNTS["total"]
    assert sum(row["trainable"] for row in rows) == transfer.KERAS_VGG16_COUNTS["frozen"]
    assert rows[30] == {"layer": "features.30 (MaxPool2d)", "output": (512, 4, 4),
                        "parameters": 0, "trainable": 0}
    assert rows[-1] == {"layer": "classifier.2 (Linear)", "output": (2,),
                        "parameters": 16_386, "trainable": 16_386}
    text = mnist.format_summary(rows)
    assert "total parameters: 14,731,074" in text
    assert "trainable parameters: 16,386" in text


# --- the blocks --------------------------------------------------------------------------------

def test_blocks_split_vgg16_at_its_max_pools(model):
    features = model.features
    assert list(transfer.BLOCKS) == ["block1", "block2", "block3", "block4", "block5"]
    assert transfer.block_indices(features) == transfer.BLOCKS
    covered = [i for indices in transfer.BLOCKS.values() for i in indices]
    assert covered == list(range(len(features))) == list(range(31))
    for name, indices in transfer.BLOCKS.items():
        modules = transfer.block_modules(features, name)
        assert modules == [features[i] for i in indices]
        assert isinstance(modules[-1], nn.MaxPool2d)
        assert sum(isinstance(m, nn.MaxPool2d) for m in modules) == 1
        convs = [i for i in indices if isinstance(features[i], nn.Conv2d)]
        assert convs == BLOCK_CONVS[name]
    assert [len(BLOCK_CONVS[name]) for name in transfer.BLOCKS] == [2, 2, 3, 3, 3]


def test_unknown_block_is_a_value_error_naming_the_blocks(model):
    transfer.freeze_features(model)
    with pytest.raises(ValueError, match="block1, block2, block3, block4, block5"):
        transfer.unfreeze_block(model, "block6")
    with pytest.raises(ValueError, match="'conv5'"):
        transfer.block_modules(model.features, "conv5")
    assert trainable_names(model) == HEAD  # nothing changed


def test_a_layer_after_the_last_pool_is_refused():
    with pytest.raises(ValueError, match="follow its last MaxPool2d"):
        transfer.block_indices(nn.Sequential(nn.MaxPool2d(2), nn.ReLU()))


# --- freezing ------------------------------------------------------------------------------------

def test_freeze_and_unfreeze_set_requires_grad_on_every_parameter(model):
    transfer.freeze(model)
    assert trainable_names(model) == set()
    assert transfer.trainable_parameters(model) == []
    transfer.unfreeze(model.classifier)
    assert trainable_names(model) == HEAD


def test_freeze_features_leaves_only_the_head_trainable(model):
    transfer.freeze_features(model)
    assert trainable_names(model) == HEAD
    assert all(not p.requires_grad for p in model.features.parameters())


def test_unfreeze_block5_makes_exactly_its_convolutions_trainable(model):
    transfer.freeze_features(model)
    transfer.unfreeze_block(model, "block5")
    assert trainable_names(model) == HEAD | conv_names("block5")
    ids = [id(p) for p in transfer.trainable_parameters(model)]
    assert ids == [id(p) for p in model.parameters() if p.requires_grad]


def test_unfreeze_block3_leaves_the_other_blocks_frozen(model):
    transfer.unfreeze_block(model, "block5")
    transfer.unfreeze_block(model, "block3")
    assert trainable_names(model) == HEAD | conv_names("block3")


# --- the optimizer -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, kwargs", [("adam", {}), ("sgd", {"momentum": 0.9})])
def test_optimizer_holds_exactly_the_trainable_parameters(model, kind, kwargs):
    transfer.unfreeze_block(model, "block5")
    optimizer = transfer.make_optimizer(model, lr=1e-4, kind=kind, **kwargs)
    held = [p for group in optimizer.param_groups for p in group["params"]]
    assert [id(p) for p in held] == [id(p) for p in transfer.trainable_parameters(model)]
    assert sum(p.numel() for p in held) == transfer.KERAS_VGG16_COUNTS["block5"]
    assert optimizer.param_groups[0]["lr"] == 1e-4
    if kwargs:
        assert optimizer.param_groups[0]["momentum"] == 0.9


def test_optimizer_without_trainable_parameters_or_of_unknown_kind_is_refused(model):
    with pytest.raises(ValueError, match="kind must be one of"):
        transfer.make_optimizer(model, lr=1e-3, kind="rmsprop")
    transfer.freeze(model)
    with pytest.raises(ValueError, match="no trainable parameters"):
        transfer.make_optimizer(model, lr=1e-3)


def test_a_training_step_with_the_base_frozen_changes_only_the_head(seed_model):
    model = transfer.replace_head(copy.deepcopy(seed_model), num_classes=2, input_size=64)
    transfer.unfreeze(model.classifier)
    transfer.freeze_features(model)
    features_before = tensors_digest(model.features.parameters())
    head_before = [p.detach().clone() for p in model.classifier.parameters()]

    torch.manual_seed(0)
    images, labels = torch.randn(2, 3, 64, 64), torch.tensor([0, 1])
    optimizer = transfer.make_optimizer(model, lr=1e-2, kind="adam")
    model.train()
    loss = nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    assert tensors_digest(model.features.parameters()) == features_before
    assert all(p.grad is None for p in model.features.parameters())
    for before, after in zip(head_before, model.classifier.parameters()):
        assert not torch.equal(before, after)


# --- the new head ------------------------------------------------------------------------------

@pytest.mark.parametrize("input_size", [128, 64])
def test_replace_head_gives_num_classes_outputs(seed_model, input_size):
    model = seed_model if input_size == 128 else transfer.replace_head(
        copy.deepcopy(seed_model), num_classes=5, input_size=64)
    classes = 2 if input_size == 128 else 5
    assert isinstance(model.avgpool, nn.Identity)
    assert [type(m) for m in model.classifier] == [nn.Flatten, nn.Dropout, nn.Linear]
    assert model.classifier[1].p == 0.5
    assert model.classifier[2].in_features == 512 * (input_size // 32) ** 2
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, input_size, input_size))
    assert out.shape == (2, classes)


@pytest.mark.parametrize("input_size", [100, 48, 16, 0])
def test_replace_head_refuses_sizes_that_are_not_multiples_of_32(input_size):
    head = nn.Sequential(nn.Linear(1, 1))
    model = nn.Module()
    model.features, model.avgpool, model.classifier = nn.Sequential(), nn.Identity(), head
    with pytest.raises(ValueError, match="multiple of 32"):
        transfer.replace_head(model, num_classes=2, input_size=input_size)
    assert model.classifier is head  # unchanged


# --- the staged weights ----------------------------------------------------------------------

def test_weights_file_is_torchvisions_name():
    url = torchvision.models.VGG16_Weights.IMAGENET1K_V1.url
    assert os.path.basename(url) == transfer.WEIGHTS_FILE


def test_missing_weights_are_one_line_naming_the_path_and_the_fix(tmp_path, torch_home):
    path = torch_home(tmp_path)
    assert transfer.weights_path() == path
    assert not transfer.weights_available()
    with pytest.raises(transfer.WeightsMissingError) as caught:
        transfer.vgg16(pretrained=True)
    error = caught.value
    assert isinstance(error, RuntimeError)
    message = str(error)
    assert str(path) in message and "\n" not in message
    assert "TORCH_HOME" in message and "hub/checkpoints/vgg16-397923af.pth" in message
    assert "torchvision.models.vgg16(weights='IMAGENET1K_V1')" in message
    lines = error._render_traceback_()
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0] == f"WeightsMissingError: {message}"
    assert not path.exists()  # nothing was downloaded or created


def test_staged_weights_are_loaded_by_torchvisions_loader(staged, torch_home):
    path = torch_home(staged["home"])
    assert transfer.weights_path() == path
    assert transfer.weights_available()
    loaded = transfer.vgg16(pretrained=True)
    assert isinstance(loaded, torchvision.models.VGG)
    state = loaded.state_dict()
    assert list(state) == staged["keys"]
    for name, tensor in staged["reference"].items():
        assert torch.equal(state[name], tensor), name
    assert tensors_digest(state.values()) == staged["digest"]



# ---------------------------------------------------------------- the offline experiment

def test_small_vgg_has_vgg_blocks_and_the_transfer_tools_apply():
    model = transfer.SmallVGG(width=4)
    blocks = transfer.block_indices(model.features)
    assert list(blocks) == ["block1", "block2", "block3"]
    assert all(isinstance(model.features[b[-1]], nn.MaxPool2d) for b in blocks.values())
    out = model.eval()(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 10)
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(2))
    transfer.unfreeze_block(model, "block3")
    trainable = {id(p) for p in transfer.trainable_parameters(model)}
    block3 = {id(p) for m in transfer.block_modules(model.features, "block3")
              for p in m.parameters()}
    head = {id(p) for p in model.classifier.parameters()}
    assert trainable == block3 | head


def test_new_head_reinitialises_only_the_last_layer_reproducibly():
    torch.manual_seed(0)
    model = transfer.SmallVGG(width=4)
    conv_before = model.features[0].weight.clone()
    head_before = model.classifier[-1].weight.clone()
    state = torch.get_rng_state()
    first = transfer.new_head(model, seed=3).classifier[-1].weight.clone()
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state untouched
    assert not torch.equal(first, head_before)
    assert torch.equal(model.features[0].weight, conv_before)
    assert torch.equal(transfer.new_head(model, seed=3).classifier[-1].weight, first)


def test_messy_digits_are_seeded_damage_in_range():
    clean = torch.full((6, 1, 28, 28), -0.5)
    clean[:, :, 8:20, 13:15] = 0.5  # a vertical stroke
    kept = clean.clone()
    messy = transfer.messy_digits(clean, seed=1)
    assert messy.shape == clean.shape and messy.dtype == clean.dtype
    assert torch.equal(clean, kept)  # the input is left alone
    assert messy.min() >= -0.5 and messy.max() <= 0.5
    assert torch.equal(messy, transfer.messy_digits(clean, seed=1))
    assert not torch.equal(messy, transfer.messy_digits(clean, seed=2))
    assert (messy - clean).abs().mean() > 0.1  # really damaged
    # still a stroke: brighter on the stroke than on the paper, on average
    assert messy[:, :, 8:20, 13:15].mean() > messy[:, :, :, :5].mean()
