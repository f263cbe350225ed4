"""Known datasets, as data: their files, sizes, checksums, mirrors and classes.

Everything idxmnist knows about a dataset is one :class:`DatasetSpec` entry in
:data:`DATASETS`; the loaders, downloads, ``idxmnist verify`` and ``preview``
all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from .layout import KEYS

__all__ = ["Algorithm", "RemoteFile", "DatasetSpec", "DATASETS", "get", "names"]

Algorithm: TypeAlias = Literal["sha256", "md5"]
#: the file-name endings of compressed containers (the name without one is the stem)
COMPRESSED_SUFFIXES = (".gz", ".xz", ".bz2")


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One upstream file: its name, size in bytes and checksum."""

    name: str
    size: int
    algorithm: Algorithm
    digest: str

    @property
    def stem(self) -> str:
        """The name without its compression suffix: ``train-images-idx3-ubyte``."""
        for suffix in COMPRESSED_SUFFIXES:
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A dataset of four IDX files, one per key of ``layout.KEYS``, in that order.

    ``classes[label]`` is the human name of each label.
    """

    name: str
    npz_name: str  # default cache file name, relative to the cache directory
    subdir: str  # where its IDX files are kept inside the cache directory
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.files) != len(KEYS):
            raise ValueError(f"{self.name}: expected {len(KEYS)} files, got {len(self.files)}")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def stems(self) -> dict[str, str]:
        """Each key's file name without compression suffix: where to look in a folder."""
        return {key: f.stem for key, f in zip(KEYS, self.files, strict=True)}


def _four(algorithm: Algorithm, *entries: tuple[str, int, str]) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(name, size, algorithm, digest) for name, size, digest in entries)


DIGITS = tuple(str(d) for d in range(10))


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        npz_name="mnist.npz",
        subdir="mnist",
        files=_four(
            "sha256",
            (
                "train-images-idx3-ubyte.gz",
                9912422,
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
            (
                "train-labels-idx1-ubyte.gz",
                28881,
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                1648877,
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                4542,
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        classes=DIGITS,
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        npz_name="fashion-mnist.npz",
        subdir="fashion-mnist",
        files=_four(
            "md5",
            ("train-images-idx3-ubyte.gz", 26421880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            ("train-labels-idx1-ubyte.gz", 29515, "25c81989df183df01b3e8a0aad5dffbe"),
            ("t10k-images-idx3-ubyte.gz", 4422102, "bef4ecab320f06d8554ea6380940ec79"),
            ("t10k-labels-idx1-ubyte.gz", 5148, "bb300cfdad3c16e7a12a480ee83cd310"),
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    "kmnist": DatasetSpec(
        name="kmnist",
        npz_name="kmnist.npz",
        subdir="kmnist",
        files=_four(
            "md5",
            ("train-images-idx3-ubyte.gz", 18165135, "bdb82020997e1d708af4cf47b453dcf7"),
            ("train-labels-idx1-ubyte.gz", 29497, "e144d726b3acfaa3e44228e80efcd344"),
            ("t10k-images-idx3-ubyte.gz", 3041136, "5c965bf0a639b31b8f53240b1b52f4d7"),
            ("t10k-labels-idx1-ubyte.gz", 5120, "7320c461ea6c1c855c0b718fb2a4b134"),
        ),
        mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        # kmnist_classmap.csv: the hiragana each label stands for (o, ki, su, tsu,
        # na, ha, ma, ya, re, wo)
        classes=(
            "\u304a",
            "\u304d",
            "\u3059",
            "\u3064",
            "\u306a",
            "\u306f",
            "\u307e",
            "\u3084",
            "\u308c",
            "\u3092",
        ),
    ),
}


def names() -> tuple[str, ...]:
    """The registered dataset names, as the command line accepts them."""
    return tuple(DATASETS)


def get(name: str) -> DatasetSpec:
    """The spec of dataset ``name`` (``mnist``, ``fashion_mnist`` or ``fashion-mnist``, ...)."""
    key = name.replace("-", "_").lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[key]
