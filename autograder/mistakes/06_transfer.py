"""Assignment 6 (transfer learning): mistakes students make, and correct answers written
differently. The transferred model is graded from the honest reference's artifacts, so every
mistake here must be caught by the unit-style tests of its own function."""

from autograder.mistakes import Alternative, Mistake

FREEZE = '''def freeze_features(model):
    for parameter in model.features.parameters():
        parameter.requires_grad_(False)
    return model
'''

UNFREEZE = '''def unfreeze_block(model, name):
    blocks, current = {}, []
    for module in model.features:
        current.append(module)
        if isinstance(module, nn.MaxPool2d):
            blocks[f"block{len(blocks) + 1}"] = current
            current = []
    if name not in blocks:
        raise ValueError(f"unknown block {name!r}; the blocks are {', '.join(blocks)}")
    for parameter in model.features.parameters():
        parameter.requires_grad_(False)
    for module in blocks[name]:
        for parameter in module.parameters():
            parameter.requires_grad_(True)
    return model
'''

HEAD = '''def replace_head(model, num_classes, input_size=128):
    side = input_size // 32
    model.avgpool = nn.Identity()
    model.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5),
                                     nn.Linear(512 * side * side, num_classes))
    return model
'''

OPTIMIZER = '''def trainable_optimizer(model, lr):
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
'''


def edit(code: str, *pairs: str) -> str:
    """code with each (old, new) pair replaced once; fails loudly if an old part is missing."""
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in code, f"{old!r} not in the reference cell"
        code = code.replace(old, new, 1)
    return code


MISTAKES = [
    # freeze_features
    Mistake("freezing only the first layer of the base", "freeze_features",
            edit(FREEZE, "model.features.parameters()", "model.features[0].parameters()"),
            ("only part of the base",)),
    Mistake("freezing the whole model, head included", "freeze_features",
            edit(FREEZE, "model.features.parameters()", "model.parameters()"), ("the head",)),
    Mistake("eval() taken for freezing", "freeze_features",
            "def freeze_features(model):\n    model.features.eval()\n    return model\n",
            ("requires_grad",)),
    Mistake("freeze_features returns nothing", "freeze_features",
            edit(FREEZE, "    return model\n", ""), ("return the model",)),
    Mistake("freeze_features makes the head trainable too", "freeze_features",
            edit(FREEZE, "    return model\n",
                 "    for parameter in model.classifier.parameters():\n"
                 "        parameter.requires_grad_(True)\n    return model\n"),
            ("leave the head",)),
    Mistake("freezing only the convolutions' weights (biases left)", "freeze_features",
            '''def freeze_features(model):
    for layer in model.features:
        if isinstance(layer, nn.Conv2d):
            layer.weight.requires_grad_(False)
    return model
''', ("only part of the base",)),
    # unfreeze_block
    Mistake("blocks numbered from 0 (unfreezes the next block)", "unfreeze_block",
            edit(UNFREEZE, 'f"block{len(blocks) + 1}"', 'f"block{len(blocks)}"'),
            ("number the blocks from 1", "instead of")),
    Mistake("unfreeze_block leaves the other blocks trainable", "unfreeze_block",
            edit(UNFREEZE, "    for parameter in model.features.parameters():\n"
                 "        parameter.requires_grad_(False)\n", ""), ("other blocks",)),
    Mistake("unfreeze_block freezes the head as well", "unfreeze_block",
            edit(UNFREEZE, "for parameter in model.features.parameters():",
                 "for parameter in model.parameters():"), ("the head",)),
    Mistake("unknown block raises KeyError, not ValueError", "unfreeze_block",
            edit(UNFREEZE, "    if name not in blocks:\n        raise ValueError(f\"unknown block "
                 "{name!r}; the blocks are {', '.join(blocks)}\")\n", ""), ("ValueError",)),
    Mistake("unknown block refused after freezing the base", "unfreeze_block",
            '''def unfreeze_block(model, name):
    for parameter in model.features.parameters():
        parameter.requires_grad_(False)
    blocks, current = {}, []
    for module in model.features:
        current.append(module)
        if isinstance(module, nn.MaxPool2d):
            blocks[f"block{len(blocks) + 1}"] = current
            current = []
    if name not in blocks:
        raise ValueError(f"unknown block {name!r}")
    for module in blocks[name]:
        for parameter in module.parameters():
            parameter.requires_grad_(True)
    return model
''', ("unchanged",)),
    Mistake("blocks that never restart (block k = layers 0 to pool k)", "unfreeze_block",
            edit(UNFREEZE, "            current = []\n", "            current = list(current)\n"),
            ("earlier blocks",)),
    # replace_head
    Mistake("avgpool left in place", "replace_head",
            edit(HEAD, "    model.avgpool = nn.Identity()\n", ""), ("avgpool",)),
    Mistake("head sized for torchvision's 7x7 maps", "replace_head",
            edit(HEAD, "512 * side * side", "512 * 7 * 7"), ("input_size",)),
    Mistake("head sized for 128x128 inputs only", "replace_head",
            edit(HEAD, "side = input_size // 32", "side = 4"), ("input_size",)),
    Mistake("head without dropout", "replace_head",
            edit(HEAD, " nn.Dropout(0.5),", ""), ("Dropout",)),
    Mistake("head with dropout 0.2", "replace_head",
            edit(HEAD, "nn.Dropout(0.5)", "nn.Dropout(0.2)"), ("Dropout",)),
    Mistake("head with two classes always", "replace_head",
            edit(HEAD, "num_classes))", "2))"), ("num_classes",)),
    Mistake("head that ends with a softmax", "replace_head",
            edit(HEAD, "nn.Linear(512 * side * side, num_classes))",
                 "nn.Linear(512 * side * side, num_classes), nn.Softmax(dim=1))"),
            ("Softmax",)),
    Mistake("only the last layer of torchvision's classifier replaced", "replace_head",
            '''def replace_head(model, num_classes, input_size=128):
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model
''', ("avgpool",)),
    # trainable_optimizer
    Mistake("optimizer over all parameters", "trainable_optimizer",
            "def trainable_optimizer(model, lr):\n"
            "    return torch.optim.Adam(model.parameters(), lr=lr)\n", ("frozen",)),
    Mistake("SGD instead of Adam", "trainable_optimizer",
            edit(OPTIMIZER, "torch.optim.Adam", "torch.optim.SGD"), ("Adam",)),
    Mistake("learning rate ignored", "trainable_optimizer",
            edit(OPTIMIZER, "lr=lr", "lr=1e-3"), ("lr",)),
    Mistake("optimizer over the frozen parameters (condition inverted)", "trainable_optimizer",
            edit(OPTIMIZER, "if p.requires_grad]", "if not p.requires_grad]"),
            ("requires_grad",)),
    Mistake("optimizer over the head only", "trainable_optimizer",
            "def trainable_optimizer(model, lr):\n"
            "    return torch.optim.Adam(model.classifier.parameters(), lr=lr)\n",
            ("the head's only",)),
]

ALTERNATIVES = [
    Alternative("module-level requires_grad_ and an index-based block search", {
        "freeze_features": '''def freeze_features(model):
    model.features.requires_grad_(False)
    return model
''',
        "unfreeze_block": '''def unfreeze_block(model, name):
    pools = [i for i, layer in enumerate(model.features) if isinstance(layer, nn.MaxPool2d)]
    names = ["block" + str(k + 1) for k in range(len(pools))]
    if name not in names:
        raise ValueError("no block called " + name)
    k = names.index(name)
    first = 0 if k == 0 else pools[k - 1] + 1
    for i, layer in enumerate(model.features):
        for p in layer.parameters():
            p.requires_grad = first <= i <= pools[k]
    return model
'''}),
    Alternative("head as an OrderedDict, optimizer with a parameter group and filter", {
        "replace_head": '''from collections import OrderedDict


def replace_head(model, num_classes, input_size=128):
    features = 512 * (input_size // 32) ** 2
    model.avgpool = nn.Identity()
    model.classifier = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten(start_dim=1)),
        ("dropout", nn.Dropout(p=0.5)),
        ("fc", nn.Linear(in_features=features, out_features=num_classes)),
    ]))
    return model
''',
        "trainable_optimizer": '''def trainable_optimizer(model, lr):
    learning = list(filter(lambda p: p.requires_grad, model.parameters()))
    return torch.optim.Adam([{"params": learning}], lr=lr)
'''}),
    Alternative("freeze by name, unfreeze by walking the layers", {
        "freeze_features": '''def freeze_features(model):
    for name, parameter in model.named_parameters():
        if name.startswith("features."):
            parameter.requires_grad = False
    return model
''',
        "unfreeze_block": '''def unfreeze_block(model, name):
    blocks = [[]]
    for layer in model.features:
        blocks[-1].append(layer)
        if isinstance(layer, nn.MaxPool2d):
            blocks.append([])
    blocks = [b for b in blocks if any(isinstance(m, nn.MaxPool2d) for m in b)]
    wanted = {f"block{i}": b for i, b in enumerate(blocks, start=1)}.get(name)
    if wanted is None:
        raise ValueError(f"{name} is not one of block1..block{len(blocks)}")
    model.features.requires_grad_(False)
    for layer in wanted:
        layer.requires_grad_(True)
    return model
'''}),
]

# Mechanical mutants no test can tell from the reference, with the reason.
EQUIVALENT = {
    "replace_head:17:swap-args": "Dropout before Flatten draws the same mask over the same "
    "numbers in the same order, and VGG flattens before the head anyway",
}
