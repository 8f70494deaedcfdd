"""Topic 6: course/06_transfer.ipynb, source/06_transfer/, tests/test_transfer.py

Transfer learning (転移学習) with torchvision's VGG16, and the parameter counts a
university report printed for its Keras VGG16.

What the lecture builds, in order:

* ``vgg16``: torchvision's VGG16, with the ImageNet weights read from torch.hub's cache. The
  course never downloads during a lesson: an instructor stages ``vgg16-397923af.pth`` once
  (see ``WeightsMissingError``), and a missing file is one clear line, not a traceback wall;
* ``replace_head``: the conv base ``features`` is kept, torchvision's 1000-class classifier is
  replaced by the report's head, Flatten -> Dropout -> Linear(num_classes);
* feature extraction (特徴抽出): ``freeze_features`` freezes (凍結) the whole conv base, so only
  the new head learns; fine-tuning (ファインチューニング): ``unfreeze_block(model, "block5")``
  then lets the last conv block learn too, with a small learning rate;
* ``make_optimizer`` hands the optimizer only the trainable parameters; ``counts`` and
  ``parameter_table`` show what is trainable, as Keras' model.summary() does in the report.

VGG16's ``features`` is five blocks, each of 3x3 convolutions with ReLU closed by a 2x2
max-pool that halves the map: 128x128 -> 4x4 with 512 channels, i.e. 512 * (128/32)^2 = 8192
numbers per image. ``KERAS_VGG16_COUNTS`` holds the parameter counts of the report's Keras
model; the PyTorch model built here has exactly the same.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision.models import VGG16_Weights
from torchvision.models import vgg as _tv_vgg

from labutils import mnist, train

WEIGHTS_FILE = "vgg16-397923af.pth"
WEIGHTS_COMMAND = ("python -c \"import torchvision; "
                   "torchvision.models.vgg16(weights='IMAGENET1K_V1')\"")

# The report's Keras VGG16 on 128x128x3, head Flatten -> Dropout -> Dense(2), as model.summary()
# printed them.
KERAS_VGG16_COUNTS = {
    "base": 14_714_688,    # the conv base: 13 convolutions
    "total": 14_731_074,   # base + Linear(8192, 2) = 16,386
    "frozen": 16_386,      # trainable with the whole base frozen: the head only
    "block5": 7_095_810,   # trainable after unfreezing block5: 3 x 2,359,808 + 16,386
}


class WeightsMissingError(RuntimeError):
    """The ImageNet weights of VGG16 are not staged. Shown as one line, never a traceback wall."""

    def _render_traceback_(self):
        # IPython calls this instead of printing the traceback.
        return [f"WeightsMissingError: {self}"]


# --- the weights ------------------------------------------------------------------------------

def weights_path() -> Path:
    """Where torchvision looks for the VGG16 weights: ``<torch.hub.get_dir()>/checkpoints/...``.

    That is ``$TORCH_HOME/hub/checkpoints/vgg16-397923af.pth`` (``~/.cache/torch`` without
    ``$TORCH_HOME``), unless ``torch.hub.set_dir`` moved the hub folder.
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def weights_available() -> bool:
    """True when the ImageNet weights are staged, so ``vgg16()`` needs no network."""
    return weights_path().is_file()


def _missing_message(path: Path) -> str:
    return (f"VGG16 ImageNet weights not found at {path}. To stage them, an instructor copies "
            f"{WEIGHTS_FILE} there, or runs once online: {WEIGHTS_COMMAND}, or sets TORCH_HOME "
            f"to a shared read-only folder holding hub/checkpoints/{WEIGHTS_FILE}")


def vgg16(pretrained: bool = True, allow_download: bool = False) -> torchvision.models.VGG:
    """torchvision's VGG16, with ImageNet weights (pretrained) or random ones.

    pretrained: load ``VGG16_Weights.IMAGENET1K_V1`` through torchvision's own loader, which
    reads the staged file at ``weights_path()``. When that file is missing this raises
    ``WeightsMissingError`` (one line naming the path and the fix) unless ``allow_download``,
    in which case torchvision downloads the 528 MB file into the cache.
    """
    if not pretrained:
        return torchvision.models.vgg16(weights=None)
    if not allow_download and not weights_available():
        raise WeightsMissingError(_missing_message(weights_path()))
    return torchvision.models.vgg16(weights=VGG16_Weights.IMAGENET1K_V1)


# --- the blocks of the conv base -------------------------------------------------------------

def block_indices(features: nn.Sequential) -> dict[str, list[int]]:
    """Split a VGG conv base at its max-pools: {"block1": [0, 1, 2, 3, 4], ...}.

    Block k holds the indices in ``features`` of its convolutions and ReLUs (and batch norms,
    for the _bn variants) and of the MaxPool2d that ends it.
    """
    blocks, current = {}, []
    for index, module in enumerate(features):
        current.append(index)
        if isinstance(module, nn.MaxPool2d):
            blocks[f"block{len(blocks) + 1}"] = current
            current = []
    if current:
        raise ValueError(f"layers {current} of the conv base follow its last MaxPool2d")
    return blocks


def _vgg16_layers() -> nn.Sequential:
    # torchvision's own VGG16 layer list, built on the meta device: no memory, no weights.
    with torch.device("meta"):
        return _tv_vgg.make_layers(_tv_vgg.cfgs["D"])


BLOCKS: dict[str, list[int]] = block_indices(_vgg16_layers())


def block_modules(features: nn.Sequential, name: str) -> list[nn.Module]:
    """The modules of block ``name`` ("block1" ... "block5") of a VGG conv base."""
    blocks = block_indices(features)
    if name not in blocks:
        raise ValueError(f"unknown block {name!r}; the blocks are {', '.join(blocks)}")
    return [features[index] for index in blocks[name]]


# --- freezing (凍結) ----------------------------------------------------------------------------

def freeze(module: nn.Module) -> nn.Module:
    """Stop every parameter of ``module`` from learning (requires_grad False). Returns it."""
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Let every parameter of ``module`` learn again (requires_grad True). Returns it."""
    for parameter in module.parameters():
        parameter.requires_grad_(True)
    return module


def freeze_features(model: nn.Module) -> nn.Module:
    """Feature extraction (特徴抽出): freeze the whole conv base ``model.features``.

    The head (``model.classifier``) is left as it is. Returns the model.
    """
    freeze(model.features)
    return model


def unfreeze_block(model: nn.Module, name: str) -> nn.Module:
    """Fine-tuning (ファインチューニング): of the conv base, only block ``name`` learns.

    Every other block of ``model.features`` is frozen; the head is left as it is. With the
    report's head, ``unfreeze_block(model, "block5")`` leaves 7,095,810 trainable parameters.
    Returns the model.
    """
    modules = block_modules(model.features, name)  # checks the name before changing anything
    freeze(model.features)
    for module in modules:
        unfreeze(module)
    return model


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters of ``model`` that will learn (requires_grad True), in module order."""
    return [parameter for parameter in model.parameters() if parameter.requires_grad]


_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def make_optimizer(model: nn.Module, lr: float, kind: str = "adam", **kwargs):
    """An optimizer over the trainable parameters only: frozen ones are not even handed over.

    kind: "adam" or "sgd"; ``kwargs`` go to the optimizer (e.g. momentum=0.9 for SGD).
    Raises ValueError when nothing is trainable. Build it after freezing or unfreezing: an
    optimizer made before ``unfreeze_block`` would not know the newly trainable block.
    """
    if kind not in _OPTIMIZERS:
        raise ValueError(f"kind must be one of {sorted(_OPTIMIZERS)}, got {kind!r}")
    parameters = trainable_parameters(model)
    if not parameters:
        raise ValueError("the model has no trainable parameters (all frozen): unfreeze the head "
                         "or a block before making an optimizer")
    return _OPTIMIZERS[kind](parameters, lr=lr, **kwargs)


# --- the new head ----------------------------------------------------------------------------

def replace_head(model: nn.Module, num_classes: int, input_size: int = 128,
                 dropout: float = 0.5) -> nn.Module:
    """The report's network: conv base ``features`` -> Flatten -> Dropout -> Linear(num_classes).

    torchvision's adaptive average pool (to 7x7) and 1000-class classifier are replaced; the
    conv base maps input_size x input_size images to 512 maps of (input_size/32)^2, so the
    Linear has 512 * (input_size // 32) ** 2 inputs (8192 for 128x128). input_size must be a
    multiple of 32. The new head is trainable. Returns the model, changed in place.
    """
    if input_size < 32 or input_size % 32:
        raise ValueError(f"input_size must be a positive multiple of 32 (five 2x2 max-pools), "
                         f"got {input_size}")
    side = input_size // 32
    model.avgpool = nn.Identity()
    model.classifier = nn.Sequential(
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(512 * side * side, num_classes),
    )
    return model


# --- what is trainable -----------------------------------------------------------------------

def parameter_table(model: nn.Module, input_shape: tuple[int, ...] = (3, 128, 128)) -> list[dict]:
    """The layer table of ``mnist.summary`` for images of ``input_shape``; print it with
    ``mnist.format_summary``. Each row also says how many of its parameters are trainable."""
    return mnist.summary(model, input_shape)


def counts(model: nn.Module) -> dict[str, int]:
    """{"total", "trainable", "non_trainable"} parameter counts, as at the foot of Keras' table."""
    total = train.count_parameters(model)
    trainable = train.count_parameters(model, trainable_only=True)
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


# --- the offline experiment: clean digits -> messy "scanned" digits ------------------------------
# A university lecture trained on hand-written cursive characters and transferred to messy
# land-register scans. With
# no ImageNet weights offline, the course does the same with its own source model: a narrow
# VGG trained on clean MNIST, transferred to digits damaged the way old scans are.

class SmallVGG(nn.Module):
    """VGG's plan, narrow enough for a CPU: three blocks of two (3x3 conv -> ReLU) and a 2x2
    max-pool (28 -> 14 -> 7 -> 3), then Flatten -> Dropout -> Linear; log-probabilities out.

    Like torchvision's VGG it has ``features`` (the conv base) and ``classifier`` (the head),
    so ``freeze_features``, ``unfreeze_block``, ``block_modules`` and ``counts`` apply as they
    are. width: channels of block 1 (blocks 2 and 3 have 2x and 4x).
    """

    def __init__(self, width: int = 16, num_classes: int = 10):
        super().__init__()
        layers, channels = [], 1
        for out in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(),
                       nn.Conv2d(out, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5),
                                        nn.Linear(channels * 3 * 3, num_classes))

    def forward(self, x):
        return torch.log_softmax(self.classifier(self.features(x)), dim=1)


def new_head(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give the model a freshly initialised last Linear layer (seeded): the head a transferred
    model learns anew on the target task. Returns the model."""
    head = model.classifier[-1]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        head.reset_parameters()
    return model


def messy_digits(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Digits damaged like old scanned records: a new tensor, same shape, values in [-0.5, 0.5].

    images: (N, 1, 28, 28) as ``data.mnist_tensors`` gives them (ink +0.5, paper -0.5). Each
    image independently: strokes thickened (half of them), rotated up to 15 degrees, blurred,
    ink faded to 50-90 %, two ink stains of random size, uneven paper and sensor noise. The
    damage is drawn from a generator seeded with ``seed``: the same seed, the same damage.
    """
    from torchvision.transforms.v2 import functional as tf

    rng = torch.Generator().manual_seed(seed)
    n = len(images)
    ink = images + 0.5  # ink 1, paper 0
    thick = (torch.rand(n, generator=rng) < 0.5)[:, None, None, None]
    ink = torch.where(thick, nn.functional.max_pool2d(ink, 3, 1, 1), ink)
    angles = (torch.rand(n, generator=rng) * 2 - 1) * 15
    ink = torch.stack([tf.rotate(image, float(angle), interpolation=tf.InterpolationMode.BILINEAR)
                       for image, angle in zip(ink, angles)])
    ink = tf.gaussian_blur(ink, [5, 5], [1.0, 1.0])
    ink = ink * (0.5 + 0.4 * torch.rand(n, 1, 1, 1, generator=rng))
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    for _ in range(2):  # stains: Gaussian blots of ink
        row, col = torch.rand(n, generator=rng) * 28, torch.rand(n, generator=rng) * 28
        radius = 2 + 4 * torch.rand(n, generator=rng)
        blot = torch.exp(-((rows - row[:, None, None]) ** 2 + (cols - col[:, None, None]) ** 2)
                         / (2 * radius[:, None, None] ** 2))
        ink = ink + 0.6 * torch.rand(n, 1, 1, 1, generator=rng) * blot[:, None]
    paper = nn.functional.interpolate(torch.rand(n, 1, 7, 7, generator=rng), size=28,
                                      mode="bilinear", align_corners=False)
    ink = ink + 0.25 * paper + 0.12 * torch.randn(ink.shape, generator=rng)
    return ink.clamp(0, 1) - 0.5
