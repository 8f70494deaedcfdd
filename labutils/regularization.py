"""Topic 5: course/05_regularization.ipynb, source/05_regularization/, tests/test_regularization.py

Regularization (正則化): what keeps a network from memorising its training set.

What the lecture covers, in order:

* dropout (ドロップアウト): ``Dropout`` switches off a random fraction of the units at every
  training step, so no unit can rely on one particular partner;
* batch normalization (バッチ正規化): ``BatchNormalization`` normalises every feature (or, for
  images, every channel) with the mean and variance of the mini-batch, then scales and shifts
  it by the learnt gamma and beta;
* weight decay / L2 regularization (荷重減衰 / L2正則化): ``l2_penalty`` adds
  1/2 lam sum W^2 to the loss, ``l2_gradient`` its gradient lam W, which pulls every weight
  towards 0 at each step;
* early stopping (早期終了): ``EarlyStopping`` ends ``train.fit`` once the validation loss has
  stopped improving and puts back the weights of the best epoch;
* data augmentation (データ拡張): ``augmentation`` / ``augment_batch`` show the network slightly
  rotated, shifted and scaled digits, so it learns what does not change a digit's class;
* cross-validation (交差検証): ``kfold_indices`` splits n samples into k folds, each of them the
  validation set once, to estimate how well a choice of hyperparameters generalises.

The first three are NumPy only, layers with the ``forward``/``backward`` contract of
``labutils.backprop`` (``forward(x, train=True)`` here, since both layers behave differently
at evaluation); the last three work with PyTorch (imported only when they are called).

Shapes: N batch, D features, C channels, H x W image size, as in ``labutils.conv``.
"""

import numbers
import operator

import numpy as np

# ---------------------------------------------------------------- dropout


class Dropout:
    """Inverted dropout: zero each entry with probability ``ratio`` during training.

    The kept entries are divided by (1 - ratio) already in training, so the expected output
    equals the input and evaluation needs no rescaling at all: ``forward(x, train=False)``
    returns x itself. (The textbook's variant scales by (1 - ratio) at evaluation instead;
    torch.nn.Dropout is inverted, like this one.)

    Masks come from the layer's own ``np.random.default_rng(seed)``: two layers built with the
    same seed draw the same sequence of masks, and the global NumPy state is never touched.
    """

    def __init__(self, ratio=0.5, seed=0):
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
            raise ValueError(f"ratio must be a number in [0, 1), got {ratio!r}")
        if not 0.0 <= ratio < 1.0:
            # ratio 1 would drop everything and divide by 0
            raise ValueError(f"ratio must lie in [0, 1), got {ratio}")
        self.ratio = float(ratio)
        self.rng = np.random.default_rng(seed)
        self.mask = None  # boolean keep-mask of the last training forward, None after eval

    def forward(self, x, train=True):
        """x: any shape -> out: same shape and dtype; a new mask at every training call."""
        if not train:
            self.mask = None
            return x
        self.mask = self.rng.random(x.shape) >= self.ratio  # True (kept) with prob. 1 - ratio
        return x * self.mask / (1.0 - self.ratio)

    def backward(self, dout):
        """dout: forward's shape -> dx: the gradient through the SAME mask as forward used."""
        if self.mask is None:  # the last forward was at evaluation: the identity
            return dout
        return dout * self.mask / (1.0 - self.ratio)


# ---------------------------------------------------------------- batch normalization


def _as_rows(x):
    """(N, D) as it is; (N, C, H, W) as (N*H*W, C), one row per pixel, so every channel is a
    column and the per-channel statistics are the column statistics."""
    if x.ndim == 2:
        return x
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _from_rows(rows, shape):
    """Undo ``_as_rows`` for an input of the given shape."""
    if len(shape) == 2:
        return rows
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)


class BatchNormalization:
    """out = gamma (x - mean) / sqrt(var + eps) + beta, per feature (N, D) or per channel
    (N, C, H, W) (statistics over N, H and W, as torch's BatchNorm2d).

    gamma, beta: (D,) or (C,), kept by reference (like ``backprop.Affine``'s W and b) so that
    an optimizer's in-place update reaches the layer. Running statistics start at mean 0 and
    variance 1, in gamma's dtype.

    Training uses the batch mean and the *biased* batch variance (divided by m, the number of
    values per feature) to normalise, and updates
        running = momentum * running + (1 - momentum) * batch statistic.
    Two conventions to know when comparing with torch.nn.BatchNorm1d/2d:
    * torch's ``momentum`` is the weight of the NEW statistic: ours 0.9 is torch's 0.1;
    * the running variance is updated with the UNBIASED batch variance (divided by m - 1),
      as torch does, so the running statistics of the two agree exactly. (The textbook uses
      the biased one; for a batch of 100 the difference is 1%.) A batch with m = 1 value per
      feature is therefore refused in training, as torch refuses it.
    Evaluation (``train=False``) normalises with the running statistics.
    """

    def __init__(self, gamma, beta, momentum=0.9, eps=1e-5):
        if np.ndim(gamma) != 1 or np.shape(gamma) != np.shape(beta):
            raise ValueError(f"gamma and beta must be 1-D of one shape, got "
                             f"{np.shape(gamma)} and {np.shape(beta)}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must lie in [0, 1], got {momentum}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.gamma, self.beta, self.momentum, self.eps = gamma, beta, momentum, eps
        self.running_mean = np.zeros_like(gamma)
        self.running_var = np.ones_like(gamma)
        self.x_shape = self.xn = self.std = self.dgamma = self.dbeta = None
        self.training = True  # was the last forward a training one (batch statistics)?

    def _check(self, x):
        if x.ndim not in (2, 4):
            raise ValueError(f"BatchNormalization takes (N, D) or (N, C, H, W), got {x.shape}")
        if x.shape[1] != len(self.gamma):
            raise ValueError(f"input has {x.shape[1]} features/channels (axis 1), gamma has "
                             f"{len(self.gamma)}")

    def forward(self, x, train=True):
        """x: (N, D) or (N, C, H, W) -> out: same shape and dtype."""
        self._check(x)
        rows = _as_rows(x)
        dtype = x.dtype  # compute in x's dtype, so float32 stays float32 (and twice as fast)
        if train:
            m = rows.shape[0]
            if m < 2:
                raise ValueError(f"training needs more than 1 value per feature, got input "
                                 f"{x.shape}")
            mean, var = rows.mean(axis=0), rows.var(axis=0)
            self.running_mean *= self.momentum
            self.running_mean += (1.0 - self.momentum) * mean
            self.running_var *= self.momentum
            self.running_var += (1.0 - self.momentum) * var * (m / (m - 1))  # unbiased
        else:
            mean = self.running_mean.astype(dtype, copy=False)
            var = self.running_var.astype(dtype, copy=False)
        self.training, self.x_shape = train, x.shape
        self.std = np.sqrt(var + dtype.type(self.eps))
        self.xn = (rows - mean) / self.std
        out = self.gamma.astype(dtype, copy=False) * self.xn + self.beta.astype(dtype, copy=False)
        return _from_rows(out, x.shape)

    def backward(self, dout):
        """dout: forward's shape -> dx: same shape; sets dgamma and dbeta, shape of gamma.

        In training the mean and variance depend on every sample of the batch, hence the two
        extra terms: dx = (dxn - mean(dxn) - xn mean(dxn xn)) / std, with dxn = gamma dout.
        After an evaluation forward the statistics are constants and dx = dxn / std.
        """
        drows = _as_rows(dout)
        self.dbeta = drows.sum(axis=0)
        self.dgamma = (drows * self.xn).sum(axis=0)
        dxn = drows * self.gamma.astype(dout.dtype, copy=False)
        if self.training:
            dxn = dxn - dxn.mean(axis=0) - self.xn * (dxn * self.xn).mean(axis=0)
        return _from_rows(dxn / self.std, self.x_shape)


# ---------------------------------------------------------------- weight decay (L2)


def l2_penalty(weights, lam):
    """1/2 lam sum of W^2 over every entry of every array in ``weights``; a float.

    Add it to the loss. Pass the weight matrices only: biases are usually not decayed (they
    do not make the function steeper, and there are few of them).
    """
    return 0.5 * lam * sum(float(np.sum(np.square(W))) for W in weights)


def l2_gradient(W, lam):
    """Gradient of ``l2_penalty`` with respect to one weight array W: lam W, W's shape.

    Add it to the loss gradient of W before the update: this is exactly what
    torch.optim.SGD(weight_decay=lam) adds to the gradient of every parameter it is given.
    """
    return lam * W


# ---------------------------------------------------------------- early stopping (PyTorch)


class EarlyStopping:
    """Stop ``train.fit`` when the monitored metric has not improved for ``patience`` epochs.

        stopper = EarlyStopping(model, patience=3)
        history = train.fit(model, train_loader, val_loader, ..., on_epoch_end=stopper)

    monitor: a list of ``train.History`` (``"val_loss"``, ``"val_acc"``, ``"train_loss"``,
    ``"train_acc"``); lower is better for a loss, higher for an accuracy. An epoch improves
    only when it beats the best value by more than ``min_delta``. Each improvement keeps a
    copy of the model's ``state_dict`` (buffers such as BatchNorm's running statistics
    included). With ``restore_best`` the best weights are loaded back when it stops; if the
    epochs run out first, call ``restore()`` yourself.

    Attributes: best_value, best_epoch (fit's 0-based epoch), stopped_epoch (None until it
    stops), wait (epochs since the last improvement).
    """

    def __init__(self, model, patience=3, min_delta=0.0, monitor="val_loss", restore_best=True):
        if monitor not in ("val_loss", "val_acc", "train_loss", "train_acc"):
            raise ValueError(f"monitor must be a list of train.History (val_loss, val_acc, "
                             f"train_loss, train_acc), got {monitor!r}")
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        self.model, self.patience, self.min_delta = model, patience, min_delta
        self.monitor, self.restore_best = monitor, restore_best
        self.higher_is_better = monitor.endswith("acc")
        # +-inf: the first finite value always improves; NaN never does
        self.best_value = -np.inf if self.higher_is_better else np.inf
        self.best_epoch = self.stopped_epoch = self.best_state = None
        self.wait = 0

    def _improves(self, value):
        if self.higher_is_better:
            return value > self.best_value + self.min_delta
        return value < self.best_value - self.min_delta

    def __call__(self, epoch, history):
        """fit's ``on_epoch_end``: True means stop now."""
        values = getattr(history, self.monitor)
        if not values:
            raise ValueError(f"history.{self.monitor} is empty: was fit given a validation "
                             "loader? (monitor a train_* metric otherwise)")
        value = float(values[-1])
        if self._improves(value):
            self.best_value, self.best_epoch, self.wait = value, epoch, 0
            # clone: state_dict() returns the live tensors, which the next step overwrites
            self.best_state = {key: tensor.detach().clone()
                               for key, tensor in self.model.state_dict().items()}
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        self.stopped_epoch = epoch
        if self.restore_best:
            self.restore()
        return True

    def restore(self):
        """Load the weights of the best epoch back into the model; returns the model."""
        if self.best_state is None:
            raise RuntimeError("no epoch has improved yet: there are no best weights to restore")
        self.model.load_state_dict(self.best_state)
        return self.model


# ---------------------------------------------------------------- data augmentation (PyTorch)


def augmentation(rotation=10, translate=0.1, scale=(0.9, 1.1), shear=0, hflip=False,
                 fill=0.0, interpolation="bilinear"):
    """A torchvision ``transforms.v2.Compose`` for MNIST-like image tensors (1, 28, 28).

    rotation: at most this many degrees either way; translate: at most this fraction of the
    width/height either way; scale: (min, max) zoom; shear: at most this many degrees.
    hflip adds a ``RandomHorizontalFlip`` (p = 0.5): right for photos, wrong for digits,
    whose mirror images are not digits. fill: the value of the pixels moved in from outside;
    use ``-data.MNIST_SHIFT`` for ``data.mnist_tensors``, whose background is -0.5, not 0.
    Bilinear interpolation keeps thin strokes smoother than torchvision's default (nearest).
    """
    from torchvision.transforms import v2

    # RandomAffine blends its fill into the edge pixels with bilinear interpolation, which
    # draws a faint frame unless the fill is 0: so shift the image to make the fill 0, and back
    steps = [v2.Lambda(lambda image: image - fill)] if fill else []
    steps.append(v2.RandomAffine(degrees=rotation,
                                 translate=(translate, translate) if translate else None,
                                 scale=scale, shear=shear or None,
                                 interpolation=v2.InterpolationMode(interpolation), fill=0.0))
    if fill:
        steps.append(v2.Lambda(lambda image: image + fill))
    if hflip:
        steps.append(v2.RandomHorizontalFlip())
    return v2.Compose(steps)


def augment_batch(images, transform, seed=0):
    """A new tensor of images' shape and dtype: ``transform`` applied to each image (N, ...).

    Image by image, because a v2 transform given a whole batch draws one set of random
    parameters and rotates every image of it the same way. The draws come from torch's global
    generator seeded with ``seed`` inside ``torch.random.fork_rng``: the same seed gives the
    same batch, and the caller's random state (e.g. of ``train.set_seed``) is left as it was.
    """
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return torch.stack([transform(image) for image in images])


class AugmentedBatches:
    """A loader (anything with ``len`` and batches of (images, labels)) whose images pass
    through ``transform`` on the way out, freshly drawn at every pass: usable as
    ``train.fit``'s training loader. Batch b of pass p uses seed ``seed + 1000 * p + b``, so a
    run is repeatable while no two batches share their random draws."""

    def __init__(self, batches, transform, seed=0):
        self.batches, self.transform, self.seed = batches, transform, seed
        self.passes = 0

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        first = self.seed + 1000 * self.passes
        self.passes += 1
        for b, (images, *rest) in enumerate(self.batches):
            yield (augment_batch(images, self.transform, seed=first + b), *rest)


# ---------------------------------------------------------------- cross-validation


def kfold_indices(n, k, shuffle=True, seed=0):
    """k-fold cross-validation splits of n samples: a list of k ``(train_idx, val_idx)``.

    The k validation folds are disjoint, cover range(n) and differ in size by at most 1 (the
    first n % k folds get one more); train_idx is the rest. Both are sorted int64 arrays.
    shuffle=False gives consecutive blocks (fold 0 is the first n/k samples): only right when
    the samples are in no particular order. shuffle=True permutes with default_rng(seed).
    """
    n, k = operator.index(n), operator.index(k)
    if k < 2 or k > n:
        raise ValueError(f"k-fold needs 2 <= k <= n, got k={k} and n={n}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    everything = np.arange(n, dtype=np.int64)
    folds = []
    for fold in np.array_split(order, k):
        val_idx = np.sort(fold).astype(np.int64)
        folds.append((np.setdiff1d(everything, val_idx), val_idx))
    return folds
