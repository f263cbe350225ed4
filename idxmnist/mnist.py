"""MNIST, keras style: ``from idxmnist import mnist; mnist.load_data()``.

``load_data(extended=True)`` adds who wrote each digit and, for the test set,
the labels people reviewed (``idxmnist.load.metadata``); :func:`label_review`
gives the review's 100 rows alone. Also the two functions for MNIST-style
files in a folder of your own: :func:`load_idx_dataset` (four IDX files ->
the keras tuple) and :func:`build_npz` (-> a keras-layout npz, for other tools).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from . import config
from .datasets import registry, review
from .datasets.layout import Arrays, as_dict, as_tuple
from .datasets.spec import TRAIN_TEST, DatasetSpec
from .idx.decode import Backend
from .load.assemble import find_sources, read_arrays
from .load.loader import load_dataset
from .store.npzfile import write_npz

__all__ = ["load_data", "class_names", "label_review", "load_idx_dataset", "build_npz"]

PathLike = str | os.PathLike[str]


def load_data(
    path: PathLike = "mnist.npz",
    *,
    source: PathLike | None = None,
    cache_dir: PathLike | None = None,
    offline: bool | None = None,
    extended: bool = False,
) -> Arrays:
    """Loads MNIST: a drop-in for ``keras.datasets.mnist.load_data``.

    60,000 training and 10,000 test 28x28 grayscale images of handwritten
    digits, built from the original IDX files, verified, and cached as an
    npz that later calls memory-map.

    Args:
        path: the cache file's name, as in keras: relative to the cache
            directory (``cache_dir``, else ``$IDXMNIST_HOME``, else
            ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``, where keras
            keeps its own ``mnist.npz``). A file found there (keras's) is read,
            verified, and never written; idxmnist's cache is written beside
            it, ``mnist.idxmnist.npz`` (``.idxmnist.npz`` in place of ``.npz``).
        source: what to build from when there is no valid cache: a folder
            holding the four files (``.gz`` is fine), a local ``.npz``,
            ``.zip`` or ``.tar`` holding them (keras's ``mnist.npz``), or a
            mirror URL. Default: ``$IDXMNIST_SOURCE``, else the mirrors.
        cache_dir: the cache directory, overriding the environment.
        offline: ``True``: open no network connection (a missing file raises
            at once, saying how to import it); default ``$IDXMNIST_OFFLINE``.
        extended: ``True``: the labels come as named int32 records (below)
            instead of uint8 digits: who wrote each digit, from QMNIST's two
            label files (about 1 MB, fetched once, verified, kept in
            ``<cache dir>/qmnist/``), and for the test set the label review,
            cached as ``mnist-meta.idxmnist.npz``. The images are the same.

    Returns:
        Tuple of NumPy arrays: ``(x_train, y_train), (x_test, y_test)``.

        **x_train**: uint8 array of grayscale image data with shapes
        ``(60000, 28, 28)``, containing the training data. Pixel values
        range from 0 to 255.

        **y_train**: uint8 array of digit labels (integers in range 0-9)
        with shape ``(60000,)`` for the training data.

        **x_test**: uint8 array of grayscale image data with shapes
        ``(10000, 28, 28)``, containing the test data.

        **y_test**: uint8 array of digit labels with shape ``(10000,)``.

        With ``extended=True``, **y_train** is ``(60000,)`` records with the
        int32 fields ``digit`` (the label), ``hsf_series``, ``writer_id``,
        ``digit_index``, ``nist_class``, ``nist_index``, ``duplicate``,
        ``unused`` (as ``qmnist.load_data(extended=True)``'s), and
        **y_test** ``(10000,)`` records with those and ``reviewed``,
        ``guessed_label``, ``votes_given``, ``votes_guessed``,
        ``votes_neither``, ``label_error`` (``docs/datasets.md``).

    Raises:
        IdxError: a file is malformed, truncated or does not fit the others;
            with ``extended=True``, QMNIST's labels or the review do not line
            up with these MNIST labels (not the upstream files in order).
        DownloadError: no mirror delivered a verified file (the message lists
            each mirror and why); offline, a missing file.
        FileNotFoundError: ``source`` lacks one of the four files.

    Example:

    ```python
    from idxmnist import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    assert y_test.shape == (10000,)
    ```

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    >>> (_, info), (_, checked) = load_data(extended=True)  # doctest: +SKIP
    >>> info["writer_id"][:3].tolist(), int(checked["label_error"].sum())  # doctest: +SKIP
    ([2154, 0, 2232], 15)

    License:
        MNIST is by Yann LeCun and Corinna Cortes (with Christopher J.C.
        Burges), a derivative of NIST data, under the Creative Commons
        Attribution-Share Alike 3.0 license
        (https://creativecommons.org/licenses/by-sa/3.0/). QMNIST's label
        files: Facebook Research, BSD-style. The label review: Northcutt,
        Athalye and Mueller (cleanlab/label-errors), Apache 2.0.
    """
    arrays = load_dataset(
        registry.get("mnist"), path, source=source, cache_dir=cache_dir, offline=offline
    )
    if extended:
        return _extended(arrays, path, cache_dir, offline)
    return arrays


def _extended(
    arrays: Arrays, path: PathLike, cache_dir: PathLike | None, offline: bool | None
) -> Arrays:
    from .load import metadata  # only extended=True reads QMNIST's files and the review
    from .load.loader import cache_file

    (x_train, y_train), (x_test, y_test) = arrays
    name = os.fspath(cache_file(config.cache_path(path, cache_dir)))  # where the labels were
    train, test = metadata.load_metadata(
        y_train, y_test, cache_dir=cache_dir, offline=offline, mnist_name=name
    )
    return (x_train, train), (x_test, test)


def label_review() -> np.ndarray:
    """The 100 MNIST test labels people reviewed (Northcutt et al., NeurIPS 2021).

    Five Mechanical Turk workers looked at each of 100 test images a model
    flagged; 15 are judged label errors (fewer than 3 of 5 chose the given
    label). Shipped with idxmnist: nothing is downloaded. In 13 rows the
    guessed label is the given one, and their votes count that choice twice
    (``votes_given == votes_guessed``): the facts are kept as published.

    Returns:
        A new ``(100,)`` array of int32 records sorted by ``index``, with the
        fields ``index`` (into ``y_test``), ``given`` (MNIST's label),
        ``guessed`` (the label the paper's model proposed), ``votes_given``,
        ``votes_guessed``, ``votes_neither`` (of 5) and ``label_error``
        (1: judged an error).

    Raises:
        IdxError: the shipped table is damaged (the message names the line).

    Example:

    >>> from idxmnist import mnist
    >>> rows = mnist.label_review()
    >>> len(rows), int(rows["label_error"].sum())
    (100, 15)
    >>> errors = rows[rows["label_error"] == 1]
    >>> errors["index"][:3].tolist(), errors["given"][:3].tolist(), errors["guessed"][:3].tolist()
    ([947, 1621, 1901], [8, 0, 9], [9, 6, 4])
    """
    return review.load_review().copy()


def class_names() -> tuple[str, ...]:
    """What each label stands for: the digits ``"0"`` to ``"9"``.

    Returns:
        One name per label, in label order: ``class_names()[label]``.

    Example:

    >>> from idxmnist import mnist
    >>> mnist.class_names()[7]
    '7'
    """
    return tuple(registry.get("mnist").class_names.values())


def _mnist_style(num_classes: int) -> DatasetSpec:
    """MNIST's four files, without its split sizes: any data in MNIST's layout."""
    digits = tuple(str(i) for i in range(num_classes))
    return dataclasses.replace(registry.get("mnist"), splits=TRAIN_TEST, classes=digits)


def load_idx_dataset(
    source_dir: PathLike, *, backend: Backend = "auto", num_classes: int = 10
) -> Arrays:
    """Reads the four MNIST-style IDX files in a folder, checked, with no cache.

    Args:
        source_dir: the folder holding ``train-images-idx3-ubyte``,
            ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
            ``t10k-labels-idx1-ubyte``, each raw or ``.gz``/``.xz``/``.bz2``
            (the dotted names, ``train-images.idx3-ubyte``, and torchvision's
            ``raw/`` subfolder are found too).
        backend: the decoder (see :func:`idxmnist.read_idx`).
        num_classes: labels must lie in ``0..num_classes-1``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``, the uint8 arrays
        ``keras.datasets.mnist.load_data()`` returns.

    Raises:
        FileNotFoundError: a file is missing (the message says which, and
            what names were looked for).
        IdxError: a file is bad, or they do not fit together (image and
            label counts, dtypes, labels outside ``0..num_classes-1``).

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_idx_dataset("mnist/")  # doctest: +SKIP
    """
    spec = _mnist_style(num_classes)
    return as_tuple(read_arrays(spec, find_sources(source_dir, spec), backend=backend))


def build_npz(source_dir: PathLike, out: PathLike, *, compress: bool = False) -> Path:
    """Builds a keras-layout npz from the four IDX files in a directory.

    The result holds ``x_train``, ``y_train``, ``x_test``, ``y_test`` and
    loads with ``numpy.load``: a file for other tools. It is not idxmnist's
    cache (``load_data`` makes and stamps its own), and not one to put under
    keras's name (keras checks ``mnist.npz`` against its own file's hash).
    It is written atomically: a reader never sees half a file, and a failure
    leaves ``out`` as it was.

    Args:
        source_dir: directory holding the four IDX files (upstream names,
            raw or ``.gz``/``.xz``/``.bz2``).
        out: the npz file to write.
        compress: ``False`` (default) writes stored members aligned to 64
            bytes, which can be memory-mapped; ``True`` writes the small
            deflate-compressed layout keras distributes.

    Returns:
        The path written, as a ``Path``.

    Raises:
        IdxError: a source file is malformed or they do not fit together.
        FileNotFoundError: ``source_dir`` lacks one of the four files.
        OSError: ``out`` cannot be written (full disk, file-size limit); the
            temporary file is removed.

    Example:

    >>> build_npz("mnist/", "mnist.npz")  # doctest: +SKIP
    PosixPath('mnist.npz')
    """
    return write_npz(out, as_dict(load_idx_dataset(source_dir)), compress=compress)
