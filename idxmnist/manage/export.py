"""``idxmnist export``: write a dataset's verified files where another tool looks for them.

Layouts:

``torchvision``
    ``DIR/<Class>/raw/``: what torchvision itself keeps there, the upstream
    file (``train-images-idx3-ubyte.gz``, when the store holds it) and the
    decompressed IDX file named as torchvision's ``_check_exists`` requires
    (each resource's name without ``.gz``/``.xz``): ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte`` under ``MNIST``, ``FashionMNIST`` or
    ``KMNIST``; ``emnist-<split>-{train,test}-
    {images-idx3,labels-idx1}-ubyte`` under ``EMNIST``;
    ``qmnist-{train,test}-images-idx3-ubyte``,
    ``qmnist-{train,test}-labels-idx2-int``, ``xnist-images-idx3-ubyte``,
    ``xnist-labels-idx2-int`` under ``QMNIST`` (the class named by the
    registry's ``torchvision``). ``torchvision.datasets.MNIST(DIR)`` (and
    ``EMNIST(DIR, split)``, ``QMNIST(DIR, what)``) then load without going
    online, and ``idxmnist import DIR`` into an empty cache gets back the
    same verified files (by the upstream files). EMNIST's upstream files
    there are its members (``emnist-<split>-...-ubyte.gz``): torchvision keeps
    the whole ``gzip.zip``, which idxmnist never keeps. Kuzushiji-49 has no
    torchvision class.
``plain``
    ``DIR/<subdir>/<name>``: the upstream files (``DIR/mnist/``,
    ``DIR/fashion-mnist/``, ``DIR/emnist/``...), which ``IDXMNIST_SOURCE=DIR``
    and ``load_data(source=DIR/mnist)`` read. A file the cache holds only as
    verified content (from an npz, say) is gzip-compressed afresh: the same
    IDX bytes, not the upstream container.

The files come from the store, filled first from whatever verified data the
cache holds (``load.loader.stock``: the store's files, keras's ``mnist.npz``,
idxmnist's own cache), else fetched (never when offline); every byte written
is checked against the registry on the way.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Literal

from ..datasets.spec import DatasetSpec, RemoteFile
from ..errors import ChecksumError
from ..files import atomic_write, open_regular
from ..idx.digest import idx_digest
from ..load.loader import stock
from ..store.pins import Learnt
from ..store.verify import copy_tallied, verdict

__all__ = ["LAYOUTS", "Layout", "export_dataset", "torchvision_dir"]

Layout = Literal["torchvision", "plain"]
LAYOUTS: tuple[Layout, ...] = ("torchvision", "plain")


def torchvision_dir(spec: DatasetSpec, root: str | os.PathLike[str]) -> Path:
    """``root/<Class>/raw``: where torchvision looks for ``spec``'s files.

    ValueError for a dataset torchvision has no class for (Kuzushiji-49).
    """
    if not spec.torchvision:
        raise ValueError(
            f"{spec.name}: torchvision has no class for it, so there is no torchvision "
            "layout to write; --layout plain writes its upstream files"
        )
    return Path(root) / spec.torchvision / "raw"


def _decompressed(src: Path, remote: RemoteFile, out: Path) -> str:
    with atomic_write(out) as f:
        found = idx_digest(src, out=f)
        if remote.content is not None and found.sha256 != remote.content:
            raise ChecksumError(f"{src}: changed while being exported; run idxmnist verify")
    return f"IDX, {found.size} bytes"


def _copy(src: Path, remote: RemoteFile, out: Path) -> str:
    with atomic_write(out) as f, open_regular(src) as s:
        if copy_tallied(s, f, remote.algorithm).mismatch(remote) is not None:
            raise ChecksumError(f"{src}: changed while being exported; run idxmnist verify")
    return "the upstream file"


def _upstream(src: Path, remote: RemoteFile, out: Path) -> str:
    if verdict(src, remote).how == "container":
        return _copy(src, remote, out)
    with atomic_write(out) as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as z:
            found = idx_digest(src, out=z)
        if found.sha256 != remote.content:
            raise ChecksumError(f"{src}: changed while being exported; run idxmnist verify")
    return "gzip-compressed afresh: the verified IDX bytes, not the upstream container"


def export_dataset(
    spec: DatasetSpec,
    layout: Layout,
    dest: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> list[tuple[Path, str]]:
    """Write ``spec``'s verified files under ``dest`` in ``layout``; return ``(path, what)``.

    Raises DownloadError when a file is neither in the cache nor fetchable,
    ValueError for the torchvision layout of a dataset torchvision lacks.
    """
    if layout == "torchvision":
        torchvision_dir(spec, dest)  # refused before anything is fetched
    files = stock(spec, cache_dir=cache_dir, offline=offline)
    written = []
    sources = dict(zip(spec.files, spec.keys, strict=True))
    for plain in spec.remote_files:
        src = files[sources[plain]]
        remote = Learnt(src.parent).of(plain)
        if layout == "torchvision":
            raw = torchvision_dir(spec, dest)
            if src.name == remote.name and remote.name != remote.stem:  # the upstream file
                written.append((raw / remote.name, _copy(src, remote, raw / remote.name)))
            out = raw / remote.stem
            written.append((out, _decompressed(src, remote, out)))
        else:
            out = Path(dest) / spec.subdir / remote.name
            written.append((out, _upstream(src, remote, out)))
    return written
