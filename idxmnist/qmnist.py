"""QMNIST, keras style: ``from idxmnist import qmnist; qmnist.load_data()``.

QMNIST (Yadav and Bottou, 2019) rebuilds MNIST from NIST Special Database 19:
60,000 training images that match MNIST's one to one, and 60,000 test
images, the first 10,000 of which match MNIST's test set (``test10k``); the
other 50,000 are the test digits MNIST never released (``test50k``). Each
example carries eight extended labels, tracing it back to its writer.

With ``extended=True`` the labels are a structured array with these fields
(all int32; :data:`FIELDS`):

==============  ===========================================================
field           meaning
==============  ===========================================================
``digit``       the class, 0-9 (what ``extended=False`` returns)
``hsf_series``  NIST HSF series of the form: 0, 1 or 4 (``nist``: 0-4, 6, 7)
``writer_id``   NIST writer ID, unique across series (``nist``: 0-4099)
``digit_index`` index of this digit among its writer's (0-146)
``nist_class``  NIST class code, 30-39 (the hex of the ASCII digit)
``nist_index``  global NIST digit index: its row in the ``nist`` set
``duplicate``   0 in train and test; in ``nist``, for 3 images, the row of
                the image they duplicate, else 0
``unused``      0
==============  ===========================================================

``idxmnist.validation_split(y_train, by="writer")`` splits the records so
that no writer is on both sides.
"""

from __future__ import annotations

import os

import numpy as np

from .datasets import catalog, registry
from .datasets.layout import Arrays
from .load.loader import hand_out, load_arrays, load_dataset

__all__ = ["load_data", "load_nist", "FIELDS", "TESTS"]

#: the extended labels' field names, in column order
FIELDS = tuple(c.name for c in catalog.QMNIST_COLUMNS)
#: the test sets ``load_data(test=...)`` offers
TESTS = tuple(catalog.QMNIST_TEST_ROWS)


def load_data(
    path: str | os.PathLike[str] | None = None,
    *,
    test: str = "test",
    extended: bool = False,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> Arrays:
    """Loads QMNIST: a drop-in for ``mnist.load_data()``, with a larger test set.

    The four files (train and test images, train and test extended labels)
    are read once, verified, and cached as one npz (``qmnist.idxmnist.npz``) that
    every later call memory-maps, whichever ``test`` and ``extended`` it
    asks for: the labels are cached as the published ``(N, 8)`` int32 matrix
    and handed out as its class column or as named records, both views.

    Args:
        path: the cache file's name, relative to the cache directory
            (default ``qmnist.npz``; idxmnist writes ``qmnist.idxmnist.npz``).
        test: ``"test"`` (all 60,000), ``"test10k"`` (the first 10,000, which
            match MNIST's test set one to one) or ``"test50k"`` (the rest).
        extended: False: labels are the digit classes, uint8, shape ``(n,)``,
            as ``mnist.load_data()`` gives. True: a structured array of ``n``
            records with the eight int32 fields of :data:`FIELDS`
            (``y["writer_id"]``).
        source: a directory holding the four files, or a base URL serving
            them. Default: ``$IDXMNIST_SOURCE/qmnist``, else the registry's
            mirror.
        cache_dir: the cache directory, overriding the environment.
        offline: ``True``: no network access at all (a missing file raises
            at once, saying how to import it); default ``$IDXMNIST_OFFLINE``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
        ``(n, 28, 28)``, labels as ``extended`` says. 60,000 training
        examples; 60,000, 10,000 or 50,000 test examples.

    Raises:
        ValueError: an unknown ``test``.
        IdxError: a file is malformed, not QMNIST's (its shape or size), or
            holds labels outside their columns' ranges; the message names the
            file and column.
        DownloadError: no mirror delivered a verified file.
        FileNotFoundError: ``source`` lacks one of the four files.

    Example:

    ```python
    from idxmnist import qmnist
    (x_train, y_train), (x_test, y_test) = qmnist.load_data(test="test50k")
    assert x_test.shape == (50000, 28, 28) and y_test.dtype == "uint8"
    _, (_, info) = qmnist.load_data(test="test10k", extended=True)
    print(info["writer_id"][:5], info["digit"][:5])
    ```

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP

    License:
        QMNIST is by Chhavi Yadav and Léon Bottou (Facebook AI Research),
        under the BSD-style license of its repository.
    """
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
    name = "qmnist" if test == "test" else f"qmnist_{test}"
    return load_dataset(
        name, path, source=source, cache_dir=cache_dir, extended=extended, offline=offline
    )


def load_nist(
    path: str | os.PathLike[str] | None = None,
    *,
    extended: bool = False,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Loads QMNIST's ``nist`` set: all 402,953 digits of NIST SD19, MNIST-style.

    Read once from the two ``xnist-*.xz`` files (51 MB), verified, and cached
    as ``qmnist-nist.idxmnist.npz``, memory-mapped afterwards.

    Args:
        path: the cache file's name (default ``qmnist-nist.npz``; idxmnist
            writes ``qmnist-nist.idxmnist.npz``).
        extended: as for :func:`load_data`.
        source: a directory holding the two files, or a base URL serving them.
        cache_dir: the cache directory, overriding the environment.
        offline: ``True``: no network access at all (a missing file raises
            at once, saying how to import it); default ``$IDXMNIST_OFFLINE``.

    Returns:
        ``(x, y)``: uint8 images ``(402953, 28, 28)``, and labels as
        ``extended`` says.

    Raises:
        IdxError: a file is malformed or not QMNIST's.
        DownloadError: no mirror delivered a verified file.
        FileNotFoundError: ``source`` lacks one of the two files.

    Example:

    >>> x, y = load_nist(extended=True)  # doctest: +SKIP
    >>> y["hsf_series"][:3]              # doctest: +SKIP
    array([0, 0, 0], dtype=int32)
    """
    spec = registry.get("qmnist_nist")
    arrays = load_arrays(spec, path, source=source, cache_dir=cache_dir, offline=offline)
    out = hand_out(arrays, spec, extended=extended)
    return out["x_nist"], out["y_nist"]
