"""Assignment 1 (perceptron gates): mistakes students make, and correct answers written
differently."""

from autograder.mistakes import Alternative, Mistake

GATES = '''def AND(x1, x2):
    return int(1.0 * x1 + 1.0 * x2 - 1.5 > 0)


def NAND(x1, x2):
    return int(-1.0 * x1 - 1.0 * x2 + 1.5 > 0)


def OR(x1, x2):
    return int(1.0 * x1 + 1.0 * x2 - 0.5 > 0)
'''


def gates(**replace) -> str:
    """The reference gates with some lines replaced: gates(AND="return ...")."""
    code = GATES
    for name, body in replace.items():
        start = code.index(f"def {name}(")
        line = code.index("return", start)
        end = code.index("\n", line)
        code = code[:line] + body + code[end:]
    return code


UPDATE = '''def perceptron_update(w, b, x, t, lr=0.1):
    y = int(np.dot(w, x) + b > 0)
    {body}
'''

TRAIN = '''def train_perceptron(X, t, lr=0.1, max_epochs=100):
    w, b, mistakes = np.zeros(X.shape[1]), 0.0, []
    for _ in range(max_epochs):
{epoch}
    return w, b, mistakes
'''
EPOCH = '''        wrong = 0
        for x, target in zip(X, t):
            wrong += int(int(np.dot(w, x) + b > 0) != target)
            w, b = perceptron_update(w, b, x, target, lr)
        mistakes.append(wrong)
        if wrong == 0:
            break'''

MISTAKES = [
    Mistake("AND fires at a sum of exactly 0 (>= for >)", "gates",
            gates(AND="return int(x1 + x2 - 1 >= 0)"), (">=", "step(0)")),
    Mistake("NAND with the bias's sign not flipped", "gates",
            gates(NAND="return int(-1.0 * x1 - 1.0 * x2 - 1.5 > 0)"), ("sign of the bias",)),
    Mistake("OR with AND's bias", "gates",
            gates(OR="return int(1.0 * x1 + 1.0 * x2 - 1.5 > 0)"), ("smaller than one weight",)),
    Mistake("gates return a bool", "gates",
            gates(AND="return 1.0 * x1 + 1.0 * x2 - 1.5 > 0",
                  NAND="return -1.0 * x1 - 1.0 * x2 + 1.5 > 0",
                  OR="return 1.0 * x1 + 1.0 * x2 - 0.5 > 0"), ("bool",)),
    Mistake("XOR written out instead of built from gates", "xor",
            "def XOR(x1, x2):\n    return int(x1 != x2)\n", ("calling your gates",)),
    Mistake("XOR from the wrong gates (OR of NAND and AND)", "xor",
            "def XOR(x1, x2):\n    return OR(NAND(x1, x2), AND(x1, x2))\n",
            ("NAND and OR", "both")),
    Mistake("update changes the caller's w in place", "update_rule",
            UPDATE.format(body="w += lr * (t - y) * np.asarray(x, dtype=float)\n"
                               "    return w, b + lr * (t - y)"), ("in place",)),
    Mistake("update fires at a sum of exactly 0 (>= for >)", "update_rule",
            UPDATE.format(body="return w + lr * (t - y) * np.asarray(x, dtype=float), "
                               "b + lr * (t - y)").replace("> 0", ">= 0"),
            ("step(0)", ">=")),
    Mistake("update moves the weights the wrong way (y - t)", "update_rule",
            UPDATE.format(body="return w + lr * (y - t) * np.asarray(x, dtype=float), "
                               "b + lr * (y - t)"), ("wrong way", "t - y")),
    Mistake("update forgets the learning rate", "update_rule",
            UPDATE.format(body="return w + (t - y) * np.asarray(x, dtype=float), "
                               "b + (t - y)"), ("learning rate",)),
    Mistake("update leaves the bias alone", "update_rule",
            UPDATE.format(body="return w + lr * (t - y) * np.asarray(x, dtype=float), float(b)"),
            ("bias moves",)),
    Mistake("training never stops early", "train",
            TRAIN.format(epoch=EPOCH.replace("        if wrong == 0:\n            break", "")
                         .rstrip()), ("stop at the first epoch",)),
    Mistake("training counts mistakes over all epochs, not each", "train",
            TRAIN.format(epoch=EPOCH.replace("        wrong = 0\n", "")).replace(
                "[]\n", "[]\n    wrong = 0\n", 1), ("each epoch",)),
]

ALTERNATIVES = [
    Alternative("gates with weights in arrays and np.dot", {"gates": '''
W = {"AND": (np.array([0.5, 0.5]), -0.7), "NAND": (np.array([-0.5, -0.5]), 0.7),
     "OR": (np.array([0.5, 0.5]), -0.2)}


def _fire(name, x1, x2):
    w, b = W[name]
    return 1 if np.dot(w, [x1, x2]) + b > 0 else 0


def AND(x1, x2):
    return _fire("AND", x1, x2)


def NAND(x1, x2):
    return _fire("NAND", x1, x2)


def OR(x1, x2):
    return _fire("OR", x1, x2)
'''}),
    Alternative("update written with an if and a loop over the weights", {"update_rule": '''
def perceptron_update(w, b, x, t, lr=0.1):
    total = b
    for wi, xi in zip(w, x):
        total += wi * xi
    y = 1 if total > 0 else 0
    new_w = np.array([wi + lr * (t - y) * xi for wi, xi in zip(w, x)], dtype=float)
    return new_w, float(b + lr * (t - y))
'''}),
    Alternative("training with a while loop and an explicit epoch counter", {"train": '''
def train_perceptron(X, t, lr=0.1, max_epochs=100):
    w, b = np.zeros(X.shape[1]), 0.0
    mistakes, epoch = [], 0
    while epoch < max_epochs:
        wrong = 0
        for i in range(len(X)):
            if int(np.dot(w, X[i]) + b > 0) != t[i]:
                wrong += 1
            w, b = perceptron_update(w, b, X[i], t[i], lr)
        mistakes.append(wrong)
        epoch += 1
        if not wrong:
            break
    return w, b, mistakes
'''}),
]

# Mechanical mutants no test can tell from the reference, with the reason. The gates are
# specified by their truth tables on inputs 0 and 1 only.
EQUIVALENT = {
    "gates:4:Gt->GtE": "AND's sum x1 + x2 - 1.5 is never exactly 0 on inputs 0/1: > and >= agree",
    "gates:24:Gt->GtE": "NAND's sum 1.5 - x1 - x2 is never exactly 0 on inputs 0/1: > and >= "
                        "agree",
    "train:70:swap-args": "np.dot(x, w) equals np.dot(w, x) for two vectors",
    "update_rule:28:drop-dtype=": "w is float and lr * (t - y) a float: w + lr * (t - y) * x is "
                                  "float whether x is int or float",
    "gates:48:1.0->2.0": "OR with one weight 2 instead of 1 still fires exactly when an input is 1",
    "update_rule:11:swap-args": "np.dot(x, w) equals np.dot(w, x) for two vectors",
    "xor:2:swap-args": "AND(OR(..), NAND(..)) equals AND(NAND(..), OR(..)): AND is symmetric",
    "xor:4:swap-args": "NAND(x2, x1) equals NAND(x1, x2): NAND is symmetric",
}
