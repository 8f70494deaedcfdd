"""Assignment 5 (dropout, batch normalization, L2, early stopping, k-fold): mistakes students
make, and correct answers written differently."""

from autograder.mistakes import Alternative, Mistake

# ---------------------------------------------------------------- the reference, in pieces

DROPOUT = '''class Dropout:
    def __init__(self, ratio=0.5, seed=0):
        self.ratio = ratio
        self.rng = np.random.default_rng(seed)
        self.mask = None

    def forward(self, x, train=True):
        if not train:
            return x
        self.mask = self.rng.random(x.shape) >= self.ratio
        return x * self.mask / np.asarray(1.0 - self.ratio, dtype=x.dtype)

    def backward(self, dout):
        return dout * self.mask / np.asarray(1.0 - self.ratio, dtype=dout.dtype)
'''

BATCHNORM = '''class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, eps=1e-5):
        self.gamma, self.beta = gamma, beta
        self.momentum, self.eps = momentum, eps
        self.running_mean = np.zeros_like(gamma)
        self.running_var = np.ones_like(gamma)
        self.x_hat = self.std = None
        self.dgamma = self.dbeta = None

    def forward(self, x, train=True):
        if not train:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return self.gamma * x_hat + self.beta
        mean, var = x.mean(axis=0), x.var(axis=0)
        self.std = np.sqrt(var + self.eps)
        self.x_hat = (x - mean) / self.std
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * mean
        self.running_var = m * self.running_var + (1 - m) * x.var(axis=0, ddof=1)
        return self.gamma * self.x_hat + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = (dout * self.x_hat).sum(axis=0)
        return (self.gamma / (n * self.std)) * (
            n * dout - self.dbeta - self.x_hat * self.dgamma)
'''

L2 = '''def l2_penalty(weights, lam):
    return float(0.5 * lam * sum(np.sum(W ** 2) for W in weights))


def l2_gradient(W, lam):
    return lam * W
'''

EARLY = '''class EarlyStopping:
    def __init__(self, model, patience=3, min_delta=0.0):
        self.model, self.patience, self.min_delta = model, patience, min_delta
        self.best_loss = float("inf")
        self.best_epoch = None
        self.best_state = None
        self.bad_epochs = 0

    def __call__(self, epoch, history):
        loss = history.val_loss[-1]
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad_epochs = loss, epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self):
        self.model.load_state_dict(self.best_state)
        return self.model
'''

KFOLD = '''def kfold_indices(n, k, shuffle=True, seed=0):
    if k < 2 or k > n:
        raise ValueError(f"k-fold needs 2 <= k <= n, got k={k}, n={n}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    folds = []
    for fold in np.array_split(order, k):
        val_idx = np.sort(fold)
        folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))
    return folds
'''


def edit(code: str, *pairs: str) -> str:
    """The code with each (old, new) pair replaced once; old must be there."""
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in code, old
        code = code.replace(old, new, 1)
    return code


DROP_FWD = "return x * self.mask / np.asarray(1.0 - self.ratio, dtype=x.dtype)"
DROP_BWD = "return dout * self.mask / np.asarray(1.0 - self.ratio, dtype=dout.dtype)"
DROP_MASK = "self.mask = self.rng.random(x.shape) >= self.ratio"
BN_RUN_MEAN = "self.running_mean = m * self.running_mean + (1 - m) * mean"
BN_RUN_VAR = "self.running_var = m * self.running_var + (1 - m) * x.var(axis=0, ddof=1)"
BN_DX = '''        return (self.gamma / (n * self.std)) * (
            n * dout - self.dbeta - self.x_hat * self.dgamma)'''
BN_EVAL = '''        if not train:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return self.gamma * x_hat + self.beta
'''
ES_COPY = "self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}"
KF_LOOP = '''    for fold in np.array_split(order, k):
        val_idx = np.sort(fold)
        folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))'''

MISTAKES = [
    # ------------------------------------------------------------ dropout
    Mistake("dropout not inverted (no 1 / (1 - ratio))", "dropout",
            edit(DROPOUT, DROP_FWD, "return x * self.mask", DROP_BWD, "return dout * self.mask"),
            ("inverted",)),
    Mistake("dropout still active at evaluation", "dropout",
            edit(DROPOUT, "        if not train:\n            return x\n", ""),
            ("at evaluation must be the identity",)),
    Mistake("textbook dropout: scale by (1 - ratio) at evaluation", "dropout",
            edit(DROPOUT, "return x\n", "return x * (1.0 - self.ratio)\n",
                 DROP_FWD, "return x * self.mask", DROP_BWD, "return dout * self.mask"),
            ("at evaluation must be the identity",)),
    Mistake("backward draws a new mask", "dropout",
            edit(DROPOUT, DROP_BWD, "mask = self.rng.random(dout.shape) >= self.ratio\n"
                 "        return dout * mask / (1.0 - self.ratio)"),
            ("reuse the mask",)),
    Mistake("keeps an entry with probability ratio", "dropout",
            edit(DROPOUT, DROP_MASK, "self.mask = self.rng.random(x.shape) < self.ratio"),
            ("probability 1 - ratio",)),
    Mistake("dropout backward not scaled", "dropout",
            edit(DROPOUT, DROP_BWD, "return dout * self.mask"), ("backward too",)),
    Mistake("mask as float64 turns float32 into float64", "dropout",
            edit(DROPOUT, DROP_MASK, "self.mask = (self.rng.random(x.shape) >= self.ratio)"
                 ".astype(float)", DROP_FWD, "return x * self.mask / (1.0 - self.ratio)",
                 DROP_BWD, "return dout * self.mask / (1.0 - self.ratio)"),
            ("keep the dtype", "float32")),
    Mistake("dropout scales its input in place", "dropout",
            edit(DROPOUT, DROP_FWD, "x *= self.mask\n        x /= 1.0 - self.ratio\n"
                 "        return x"), ("in place",)),
    Mistake("one mask drawn once and reused at every step", "dropout",
            edit(DROPOUT, DROP_MASK, "if self.mask is None or self.mask.shape != x.shape:\n"
                 "            " + DROP_MASK), ("new mask",)),
    # ------------------------------------------------------------ batch normalization
    Mistake("batch norm uses the batch's statistics at evaluation", "batchnorm",
            edit(BATCHNORM, BN_EVAL, '''        if not train:
            x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + self.eps)
            return self.gamma * x_hat + self.beta
'''), ("use running_mean and running_var",)),
    Mistake("running average's weights reversed", "batchnorm",
            edit(BATCHNORM, BN_RUN_MEAN,
                 "self.running_mean = (1 - m) * self.running_mean + m * mean",
                 BN_RUN_VAR,
                 "self.running_var = (1 - m) * self.running_var + m * x.var(axis=0, ddof=1)"),
            ("momentum * running",)),
    Mistake("running variance from the biased variance", "batchnorm",
            edit(BATCHNORM, BN_RUN_VAR, "self.running_var = m * self.running_var + (1 - m) * var"),
            ("unbiased",)),
    Mistake("variance without epsilon", "batchnorm",
            edit(BATCHNORM, "self.std = np.sqrt(var + self.eps)", "self.std = np.sqrt(var)",
                 "np.sqrt(self.running_var + self.eps)", "np.sqrt(self.running_var)"),
            ("eps",)),
    Mistake("batch norm backward misses the term through the mean", "batchnorm",
            edit(BATCHNORM, BN_DX, '''        return (self.gamma / (n * self.std)) * (
            n * dout - self.x_hat * self.dgamma)'''), ("through the batch mean",)),
    Mistake("batch norm backward treats mean and variance as constants", "batchnorm",
            edit(BATCHNORM, BN_DX, "        return self.gamma * dout / self.std"),
            ("constants",)),
    Mistake("dgamma not summed over the batch", "batchnorm",
            edit(BATCHNORM, "self.dgamma = (dout * self.x_hat).sum(axis=0)",
                 "self.dgamma = dout * self.x_hat",
                 "self.x_hat * self.dgamma)", "self.x_hat * self.dgamma.sum(axis=0))"),
            ("sum over the batch",)),
    Mistake("evaluation forward updates the running statistics", "batchnorm",
            edit(BATCHNORM, BN_EVAL, "", '''        return self.gamma * self.x_hat + self.beta
''', '''        if not train:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return self.gamma * x_hat + self.beta
        return self.gamma * self.x_hat + self.beta
'''), ("must not update",)),
    # ------------------------------------------------------------ L2
    Mistake("L2 penalty without the 1/2", "l2",
            edit(L2, "float(0.5 * lam *", "float(lam *"), ("the 1/2",)),
    Mistake("L2 gradient without the factor lam", "l2",
            edit(L2, "return lam * W", "return W"), ("multiply by lam",)),
    Mistake("L2 gradient 2 lam W (the 1/2 forgotten)", "l2",
            edit(L2, "return lam * W", "return 2 * lam * W"), ("cancels the 1/2",)),
    Mistake("L2 penalty with the mean of the squares", "l2",
            edit(L2, "np.sum(W ** 2)", "np.mean(W ** 2)"), ("not their mean",)),
    # ------------------------------------------------------------ early stopping
    Mistake("early stopping keeps a reference to the weights", "early_stopping",
            edit(EARLY, ES_COPY, "self.best_state = self.model.state_dict()"), ("copy",)),
    Mistake("early stopping copies the dict but not the tensors", "early_stopping",
            edit(EARLY, ES_COPY, "self.best_state = dict(self.model.state_dict())"),
            ("copy",)),
    Mistake("patience off by one (> for >=)", "early_stopping",
            edit(EARLY, "self.bad_epochs >= self.patience", "self.bad_epochs > self.patience"),
            ("one epoch late",)),
    Mistake("bad-epoch count not reset on improvement", "early_stopping",
            edit(EARLY, "self.best_loss, self.best_epoch, self.bad_epochs = loss, epoch, 0",
                 "self.best_loss, self.best_epoch = loss, epoch"), ("reset",)),
    Mistake("compares with the previous epoch, not the best", "early_stopping",
            edit(EARLY, "        loss = history.val_loss[-1]\n"
                 "        if loss < self.best_loss - self.min_delta:",
                 "        loss = history.val_loss[-1]\n"
                 "        previous = history.val_loss[-2] if len(history.val_loss) > 1 "
                 "else float('inf')\n"
                 "        if loss < previous - self.min_delta:"), ("best loss so far",)),
    Mistake("min_delta added instead of subtracted", "early_stopping",
            edit(EARLY, "loss < self.best_loss - self.min_delta",
                 "loss < self.best_loss + self.min_delta"), ("min_delta",)),
    # ------------------------------------------------------------ k-fold
    Mistake("overlapping folds (ceil size, floor step)", "kfold",
            edit(KFOLD, KF_LOOP, '''    step, size = n // k, -(-n // k)
    for fold in range(k):
        val_idx = np.sort(order[fold * step:fold * step + size])
        folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))'''), ("overlap",)),
    Mistake("folds drop the remainder n % k", "kfold",
            edit(KFOLD, KF_LOOP, '''    size = n // k
    for fold in range(k):
        val_idx = np.sort(order[fold * size:(fold + 1) * size])
        folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))'''),
            ("in no validation fold",)),
    Mistake("the whole remainder goes to the last fold", "kfold",
            edit(KFOLD, KF_LOOP, '''    size = n // k
    for fold in range(k):
        end = n if fold == k - 1 else (fold + 1) * size
        val_idx = np.sort(order[fold * size:end])
        folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))'''), ("n % k",)),
    Mistake("train_idx is every index, the fold included", "kfold",
            edit(KFOLD, "folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))",
                 "folds.append((np.arange(n), val_idx))"), ("not in val_idx",)),
    Mistake("validation folds not sorted", "kfold",
            edit(KFOLD, "val_idx = np.sort(fold)", "val_idx = fold"), ("sorted",)),
    Mistake("shuffle with the global generator, seed ignored", "kfold",
            edit(KFOLD, "np.random.default_rng(seed).permutation(n)", "np.random.permutation(n)"),
            ("same seed",)),
    Mistake("no ValueError for k < 2 or k > n", "kfold",
            edit(KFOLD, '''    if k < 2 or k > n:
        raise ValueError(f"k-fold needs 2 <= k <= n, got k={k}, n={n}")
''', ""), ("ValueError",)),
]

ALTERNATIVES = [
    Alternative("dropout with np.where and a precomputed scale", {"dropout": '''
class Dropout:
    def __init__(self, ratio=0.5, seed=0):
        self.ratio = ratio
        self.rng = np.random.default_rng(seed)
        self.mask = None

    def forward(self, x, train=True):
        if train:
            self.mask = self.rng.random(x.shape) >= self.ratio
            scale = 1.0 / (1.0 - self.ratio)
            return np.where(self.mask, x * scale, 0).astype(x.dtype)
        return x

    def backward(self, dout):
        scale = 1.0 / (1.0 - self.ratio)
        return np.where(self.mask, dout * scale, 0).astype(dout.dtype)
'''}),
    Alternative("batch norm as a staged graph, backward node by node", {"batchnorm": '''
class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, eps=1e-5):
        self.gamma, self.beta = gamma, beta
        self.momentum, self.eps = momentum, eps
        self.running_mean = np.zeros_like(gamma)
        self.running_var = np.ones_like(gamma)
        self.x_hat = self.std = None
        self.dgamma = self.dbeta = None

    def forward(self, x, train=True):
        if train:
            n = x.shape[0]
            mu = np.sum(x, axis=0) / n
            self.xc = x - mu
            var = np.sum(self.xc ** 2, axis=0) / n
            self.std = np.sqrt(var + self.eps)
            self.x_hat = self.xc / self.std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            unbiased = var * n / (n - 1)
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * unbiased
            return self.gamma * self.x_hat + self.beta
        return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + self.eps) \\
            + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        self.dbeta = np.sum(dout, axis=0)
        self.dgamma = np.sum(dout * self.x_hat, axis=0)
        dx_hat = dout * self.gamma
        dstd = -np.sum(dx_hat * self.xc, axis=0) / self.std ** 2
        dvar = 0.5 * dstd / self.std
        dxc = dx_hat / self.std + 2.0 * self.xc * dvar / n
        return dxc - np.sum(dxc, axis=0) / n
'''}),
    Alternative("L2 with dot products and a loop", {"l2": '''
def l2_penalty(weights, lam):
    total = 0.0
    for W in weights:
        flat = np.ravel(W)
        total += float(flat @ flat)
    return lam / 2 * total


def l2_gradient(W, lam):
    return np.multiply(W, lam)
'''}),
    Alternative("early stopping with deepcopy and a wait counter", {"early_stopping": '''
import copy


class EarlyStopping:
    def __init__(self, model, patience=3, min_delta=0.0):
        self.model, self.patience, self.min_delta = model, patience, min_delta
        self.best_loss = float("inf")
        self.best_epoch = None
        self.best_state = None
        self.wait = 0

    def __call__(self, epoch, history):
        current = float(history.val_loss[-1])
        if self.best_loss - current > self.min_delta:
            self.best_loss = current
            self.best_epoch = epoch
            self.best_state = copy.deepcopy(self.model.state_dict())
            self.wait = 0
        else:
            self.wait += 1
        return self.wait == self.patience

    def restore(self):
        self.model.load_state_dict(self.best_state)
'''}),
    Alternative("k-fold with explicit fold sizes and a boolean mask", {"kfold": '''
def kfold_indices(n, k, shuffle=True, seed=0):
    if not 2 <= k <= n:
        raise ValueError("need 2 <= k <= n")
    indices = np.arange(n)
    if shuffle:
        indices = np.random.default_rng(seed).permutation(n)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    folds, start = [], 0
    for size in sizes:
        in_val = np.zeros(n, dtype=bool)
        in_val[indices[start:start + size]] = True
        folds.append((np.flatnonzero(~in_val), np.flatnonzero(in_val)))
        start += size
    return folds
'''}),
]

# Mechanical mutants no test can tell from the reference, with the reason.
EQUIVALENT = {
    "dropout:0:delete-body-2": "drops `self.mask = None` from the given __init__: only backward "
                               "reads the mask, and it runs after a training forward has set it",
    "early_stopping:98:delete-body-1": "restore() no longer returns the model: the assignment "
                                       "asks only that it load the best weights into the model",
    "early_stopping:46:return-None": "`return False` made `return None` when an epoch improves: "
                                     "fit and the test read the answer as a truth value, and "
                                     "None is false as False is",
}
