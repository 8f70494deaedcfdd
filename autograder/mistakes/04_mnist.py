"""Assignment 4 (MNIST with PyTorch): mistakes students make, and correct answers written
differently. The trained model is graded from the honest reference's artifacts, so every
mistake here must be caught by the unit-style tests of its own function."""

from autograder.mistakes import Alternative, Mistake

MLP = '''def build_mlp():
    """The MLP of lecture 4: (N, 1, 28, 28) -> (N, 10) log-probabilities."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 784), nn.Sigmoid(),
        nn.Linear(784, 784), nn.Sigmoid(),
        nn.Linear(784, 10),
        nn.LogSoftmax(dim=1),
    )
'''

CNN = '''def build_cnn():
    """The fast CNN of lecture 4: (N, 1, 28, 28) -> (N, 10) log-probabilities."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 128), nn.ReLU(),
        nn.Linear(128, 10),
        nn.LogSoftmax(dim=1),
    )
'''

STEP = '''def train_step(model, optimizer, images, labels):
    """One gradient step on one batch; returns the batch's mean loss as a float."""
    model.train()
    optimizer.zero_grad()
    loss = F.nll_loss(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()
'''

EVALUATE = '''def evaluate(model, images, labels, batch_size=1000):
    """Accuracy of model on (images, labels): the fraction predicted right, in [0, 1]."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            outputs = model(images[start:start + batch_size])
            predicted = outputs.argmax(dim=1)
            correct += int((predicted == labels[start:start + batch_size]).sum())
    return correct / len(images)
'''


def edit(code: str, *pairs: str) -> str:
    """code with each (old, new) pair replaced once; fails loudly if an old part is missing."""
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in code, f"{old!r} not in the reference cell"
        code = code.replace(old, new, 1)
    return code


MISTAKES = [
    # build_mlp
    Mistake("MLP with ReLU where the table says sigmoid", "build_mlp",
            MLP.replace("nn.Sigmoid()", "nn.ReLU()"), ("sigmoid",)),
    Mistake("MLP without the activation between the linear layers", "build_mlp",
            edit(MLP, "nn.Linear(784, 784), nn.Sigmoid(),\n        nn.Linear(784, 784)",
                 "nn.Linear(784, 784),\n        nn.Linear(784, 784)"), ("Sigmoid", "activation")),
    Mistake("MLP ends with the raw scores (no LogSoftmax)", "build_mlp",
            edit(MLP, "        nn.LogSoftmax(dim=1),\n", ""), ("LogSoftmax",)),
    Mistake("MLP ends with Softmax instead of LogSoftmax", "build_mlp",
            edit(MLP, "nn.LogSoftmax(dim=1)", "nn.Softmax(dim=1)"), ("LogSoftmax",)),
    Mistake("MLP normalises over the batch (LogSoftmax(dim=0))", "build_mlp",
            edit(MLP, "nn.LogSoftmax(dim=1)", "nn.LogSoftmax(dim=0)"), ("dim=0", "the batch")),
    Mistake("MLP without Flatten", "build_mlp",
            edit(MLP, "        nn.Flatten(),\n", ""), ("Flatten",)),
    Mistake("MLP with hidden layers of 512", "build_mlp",
            edit(MLP, "nn.Linear(784, 784), nn.Sigmoid(),\n        nn.Linear(784, 784), "
                 "nn.Sigmoid(),\n        nn.Linear(784, 10)",
                 "nn.Linear(784, 512), nn.Sigmoid(),\n        nn.Linear(512, 512), "
                 "nn.Sigmoid(),\n        nn.Linear(512, 10)"), ("layer sizes",)),
    Mistake("MLP returns one model built once, for every call", "build_mlp",
            "_MODEL = nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.Sigmoid(),\n"
            "                       nn.Linear(784, 784), nn.Sigmoid(), nn.Linear(784, 10),\n"
            "                       nn.LogSoftmax(dim=1))\n\n\n"
            "def build_mlp():\n    return _MODEL\n", ("new model",)),
    # build_cnn
    Mistake("CNN convolutions with a bias (bias=False forgotten)", "build_cnn",
            CNN.replace(", bias=False", ""), ("bias=False",)),
    Mistake("CNN convolutions without padding", "build_cnn",
            CNN.replace("padding=1, ", ""), ("padding",)),
    Mistake("CNN without batch normalization", "build_cnn",
            CNN.replace(" nn.BatchNorm2d(16),", "").replace(" nn.BatchNorm2d(32),", ""),
            ("BatchNorm2d",)),
    Mistake("CNN without the ReLU after the first linear layer", "build_cnn",
            edit(CNN, "nn.Linear(32 * 7 * 7, 128), nn.ReLU(),", "nn.Linear(32 * 7 * 7, 128),"),
            ("ReLU",)),
    Mistake("CNN with average pooling", "build_cnn",
            CNN.replace("nn.MaxPool2d(2)", "nn.AvgPool2d(2)"), ("MaxPool2d",)),
    Mistake("CNN with batch norm after the ReLU", "build_cnn",
            CNN.replace("nn.BatchNorm2d(16), nn.ReLU()", "nn.ReLU(), nn.BatchNorm2d(16)")
               .replace("nn.BatchNorm2d(32), nn.ReLU()", "nn.ReLU(), nn.BatchNorm2d(32)"),
            ("another order",)),
    Mistake("CNN ends with raw scores (no LogSoftmax)", "build_cnn",
            edit(CNN, "        nn.LogSoftmax(dim=1),\n", ""), ("LogSoftmax",)),
    # train_step
    Mistake("train_step without zero_grad", "train_step",
            edit(STEP, "    optimizer.zero_grad()\n", ""), ("zero_grad",)),
    Mistake("train_step without model.train()", "train_step",
            edit(STEP, "    model.train()\n", ""), ("model.train()",)),
    Mistake("train_step returns the loss tensor", "train_step",
            edit(STEP, "return loss.item()", "return loss"), ("loss.item()",)),
    Mistake("train_step steps before backward", "train_step",
            edit(STEP, "    loss.backward()\n    optimizer.step()\n",
                 "    optimizer.step()\n    loss.backward()\n"), ("after loss.backward()",)),
    Mistake("train_step sums the loss over the batch", "train_step",
            edit(STEP, "F.nll_loss(model(images), labels)",
                 "F.nll_loss(model(images), labels, reduction='sum')"), ("sum",)),
    Mistake("train_step returns the loss after the update", "train_step",
            edit(STEP, "    return loss.item()\n",
                 "    with torch.no_grad():\n"
                 "        return F.nll_loss(model(images), labels).item()\n"),
            ("before the update",)),
    Mistake("train_step zeroes the gradients between backward and step", "train_step",
            edit(STEP, "    optimizer.zero_grad()\n    loss = F.nll_loss(model(images), labels)\n"
                 "    loss.backward()\n",
                 "    loss = F.nll_loss(model(images), labels)\n    loss.backward()\n"
                 "    optimizer.zero_grad()\n"), ("did not change",)),
    # evaluate
    Mistake("evaluate returns the count, not the fraction", "evaluate",
            edit(EVALUATE, "return correct / len(images)", "return float(correct)"),
            ("fraction",)),
    Mistake("evaluate without model.eval()", "evaluate",
            edit(EVALUATE, "    model.eval()\n", ""), ("model.eval()",)),
    Mistake("evaluate without torch.no_grad()", "evaluate",
            edit(EVALUATE, "    with torch.no_grad():\n        for start in range(0, len(images), "
                 "batch_size):\n            outputs = model(images[start:start + batch_size])\n"
                 "            predicted = outputs.argmax(dim=1)\n            correct += "
                 "int((predicted == labels[start:start + batch_size]).sum())\n",
                 "    for start in range(0, len(images), batch_size):\n"
                 "        outputs = model(images[start:start + batch_size])\n"
                 "        predicted = outputs.argmax(dim=1)\n"
                 "        correct += int((predicted == labels[start:start + batch_size]).sum())\n"),
            ("no_grad",)),
    Mistake("evaluate drops the last, smaller batch", "evaluate",
            edit(EVALUATE, "range(0, len(images), batch_size)",
                 "range(0, len(images) - batch_size + 1, batch_size)"), ("last, smaller batch",)),
    Mistake("evaluate averages batch accuracies without weighting them", "evaluate",
            '''def evaluate(model, images, labels, batch_size=1000):
    model.eval()
    accuracies = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            predicted = model(images[start:start + batch_size]).argmax(dim=1)
            right = predicted == labels[start:start + batch_size]
            accuracies.append(right.float().mean().item())
    return sum(accuracies) / len(accuracies)
''', ("weight",)),
    Mistake("evaluate returns a tensor", "evaluate",
            edit(EVALUATE, "            correct += int((predicted == labels[start:start + "
                 "batch_size]).sum())\n",
                 "            correct += (predicted == labels[start:start + batch_size]).sum()\n"
                 ).replace("return correct / len(images)",
                           "return correct.float() / len(images)"), ("float",)),
    Mistake("evaluate compares every batch with all the labels", "evaluate",
            edit(EVALUATE, "labels[start:start + batch_size]", "labels"), ("slice",)),
    Mistake("evaluate with argmax over the batch (dim=0)", "evaluate",
            edit(EVALUATE, "argmax(dim=1)", "argmax(dim=0)"), ("dim=1",)),
]

ALTERNATIVES = [
    Alternative("MLP as a class with a forward method, CNN built in a loop", {
        "build_mlp": '''class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(28 * 28, 784)
        self.hidden2 = nn.Linear(784, 784)
        self.out = nn.Linear(784, 10)

    def forward(self, x):
        x = torch.flatten(x, start_dim=1)
        x = torch.sigmoid(self.hidden1(x))
        x = torch.sigmoid(self.hidden2(x))
        return F.log_softmax(self.out(x), dim=1)


def build_mlp():
    return MLP()
''',
        "build_cnn": '''def build_cnn():
    # a loop over the two blocks; nn.Sequential keeps the saved state_dict's layer numbers
    layers, channels = [], 1
    for width in (16, 32):
        layers += [nn.Conv2d(channels, width, kernel_size=(3, 3), stride=1, padding="same",
                             bias=False),
                   nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2)]
        channels = width
    layers += [nn.Flatten(start_dim=1), nn.Linear(channels * 7 * 7, 128), nn.ReLU(),
               nn.Linear(128, 10), nn.LogSoftmax(dim=-1)]
    return nn.Sequential(*layers)
'''}),
    Alternative("train_step with cross_entropy and set_to_none after the step", {
        "train_step": '''def train_step(model, optimizer, images, labels):
    model.train(True)
    log_probabilities = model(images)
    # log_softmax of log-probabilities changes nothing, so cross_entropy equals nll_loss here
    loss = F.cross_entropy(log_probabilities, labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)  # cleared after the step instead of before
    return float(loss.detach())
'''}),
    Alternative("evaluate as the size-weighted mean of float32 batch accuracies", {
        "evaluate": '''def evaluate(model, images, labels, batch_size=1000):
    model.eval()
    total, weighted = 0, 0.0
    with torch.no_grad():
        for x, y in zip(torch.split(images, batch_size), torch.split(labels, batch_size)):
            accuracy = (model(x).argmax(1) == y).float().mean().item()
            weighted += accuracy * len(y)
            total += len(y)
    return weighted / total
'''}),
    Alternative("evaluate with torch.inference_mode and a while loop", {
        "evaluate": '''def evaluate(model, images, labels, batch_size=1000):
    model.train(False)
    hits, start = 0, 0
    with torch.inference_mode():
        while start < len(images):
            stop = min(start + batch_size, len(images))
            scores = model(images[start:stop])
            hits += (scores.max(dim=1).indices == labels[start:stop]).sum().item()
            start = stop
    return float(hits) / float(len(labels))
'''}),
]

# Mechanical mutants no test can tell from the reference, with the reason.
EQUIVALENT = {}
