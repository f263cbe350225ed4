"""Known datasets, as data: their files, sizes, checksums, mirrors and classes.

Everything idxmnist knows about a dataset is one :class:`DatasetSpec` entry in
:data:`DATASETS`; the loaders, downloads, ``idxmnist verify``, ``import``,
``export`` and ``preview`` all read it from here.

Each file is pinned twice where the facts are known: by its *container*
checksum (the exact ``.gz`` bytes upstream publishes) and by its *content*
checksum (SHA-256 of the decompressed IDX bytes, header and payload). A copy
that matches either is the right data, however it was packed.

A mirror is either a base URL (ending in ``/``; the registry's file names are
fetched beneath it) or the URL of one file that holds the whole dataset (a
keras-layout ``.npz``, or a zip or tar of the IDX files); see
``docs/sources.md`` for the order and why.
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
    """One upstream file: its name, size in bytes and checksum.

    ``content`` is the SHA-256 of the decompressed IDX bytes (header and
    payload) and ``content_size`` their length, or None where they have not
    been computed from a verified copy: then only the exact container
    verifies.
    """

    name: str
    size: int
    algorithm: Algorithm
    digest: str
    content: str | None = None
    content_size: int | None = None

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

    ``classes[label]`` is the human name of each label. ``whole_files`` pins
    the files that hold the whole dataset at some mirror (keras's
    ``mnist.npz``), by the name a mirror URL ends with. ``torchvision`` is
    the class name torchvision keeps the dataset under (``root/<name>/raw/``).
    """

    name: str
    npz_name: str  # default cache file name, relative to the cache directory
    subdir: str  # where its IDX files are kept inside the cache directory
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]
    classes: tuple[str, ...]
    whole_files: tuple[RemoteFile, ...] = ()
    torchvision: str | None = None

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


def _four_with_content(
    *entries: tuple[str, int, str, int, str],
) -> tuple[RemoteFile, ...]:
    """``(name, size, sha256, IDX size, IDX sha256)`` each: container and content pinned."""
    return tuple(
        RemoteFile(name, size, "sha256", digest, content, content_size)
        for name, size, digest, content_size, content in entries
    )


DIGITS = tuple(str(d) for d in range(10))


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        npz_name="mnist.npz",
        subdir="mnist",
        # container: the upstream .gz files (TFDS's and the CVDF mirror's sha256);
        # content: `gzip -dc FILE | sha256sum` of those files
        files=_four_with_content(
            (
                "train-images-idx3-ubyte.gz",
                9912422,
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                47040016,
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            (
                "train-labels-idx1-ubyte.gz",
                28881,
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                60008,
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                1648877,
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                7840016,
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                4542,
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                10008,
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        ),
        # LeCun's own host is gone (403, then 503, then an HTML page; the domain
        # lapsed in 2026). keras's mnist.npz comes last: one 11 MB file, all or
        # nothing, verified by content; the per-file mirrors above fetch only
        # what is missing and keep the upstream .gz bytes
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        ),
        # keras.datasets.mnist's own pin of that file
        whole_files=(
            RemoteFile(
                "mnist.npz",
                11490434,
                "sha256",
                "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            ),
        ),
        torchvision="MNIST",
        classes=DIGITS,
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        npz_name="fashion-mnist.npz",
        subdir="fashion-mnist",
        # the sha256s keras.datasets.fashion_mnist pins (TFDS pins the same for
        # the zalando host; torchvision's md5s are of the same bytes). Content
        # hashes: not computed yet (no verified copy at hand), so only the
        # exact .gz files verify
        files=_four(
            "sha256",
            (
                "train-images-idx3-ubyte.gz",
                26421880,
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            ),
            (
                "train-labels-idx1-ubyte.gz",
                29515,
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                4422102,
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                5148,
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ),
        ),
        # keras's copy first: https, and the zalando host has timed out for weeks
        # at a time; the bytes are the same, pinned by the same sha256s
        mirrors=(
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        torchvision="FashionMNIST",
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
        # TFDS's sha256s (same sizes as torchvision's md5-pinned files); content
        # hashes: not computed yet, so only the exact .gz files verify
        files=_four(
            "sha256",
            (
                "train-images-idx3-ubyte.gz",
                18165135,
                "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
            ),
            (
                "train-labels-idx1-ubyte.gz",
                29497,
                "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                3041136,
                "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                5120,
                "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
            ),
        ),
        mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        torchvision="KMNIST",
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
