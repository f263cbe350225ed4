"""Kuzushiji-49, keras style: ``from idxmnist import k49; k49.load_data()``.

49 classes of hiragana in cursive Kuzushiji script (Clanuwat et al., 2018),
28x28 grayscale: 232,365 training and 38,547 test images. The publishers
ship four ``.npz`` files, each holding one array ``arr_0``; idxmnist reads
them with its own npz reader (never unpickling, refusing object arrays,
checking each declared shape before reading), verified by the publishers'
MD5s and sizes, and caches them as one memory-mapped npz.
"""

from __future__ import annotations

import os

from .datasets import registry
from .datasets.layout import Arrays
from .load.loader import load_dataset

__all__ = ["load_data", "class_names"]


def load_data(
    path: str | os.PathLike[str] | None = None,
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> Arrays:
    """Loads Kuzushiji-49: ``(x_train, y_train), (x_test, y_test)``.

    Args:
        path: the cache file's name, relative to the cache directory
            (default ``k49.npz``; idxmnist writes ``k49.idxmnist.npz``).
        source: a directory holding ``k49-train-imgs.npz``,
            ``k49-train-labels.npz``, ``k49-test-imgs.npz`` and
            ``k49-test-labels.npz``, or a base URL serving them. Default:
            ``$IDXMNIST_SOURCE/k49``, else the publishers' host.
        cache_dir: the cache directory, overriding the environment.
        offline: ``True``: no network access at all (a missing file raises
            at once, saying how to import it); default ``$IDXMNIST_OFFLINE``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
        ``(232365, 28, 28)`` and ``(38547, 28, 28)``, uint8 labels 0..48
        (:func:`class_names` gives each label's hiragana).

    Raises:
        IdxError: a file is not a valid npz, holds Python objects, declares
            another shape than K49's, or labels outside 0..48.
        DownloadError: no mirror delivered a verified file.
        FileNotFoundError: ``source`` lacks one of the four files.

    Example:

    ```python
    from idxmnist import k49
    (x_train, y_train), (x_test, y_test) = k49.load_data()
    assert x_train.shape == (232365, 28, 28)
    print(k49.class_names()[int(y_train[0])])
    ```

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP

    License:
        Kuzushiji-49 is by the ROIS-DS Center for Open Data in the Humanities
        (CODH), under CC BY-SA 4.0; cite Clanuwat et al., "Deep Learning for
        Classical Japanese Literature" (2018).
    """
    return load_dataset(
        registry.get("k49"), path, source=source, cache_dir=cache_dir, offline=offline
    )


def class_names() -> tuple[str, ...]:
    """The hiragana each label 0..48 stands for, from the publishers' ``k49_classmap.csv``.

    Labels 0-47 are あ to ん in gojūon order, with the archaic ゐ (44) and ゑ
    (45); 48 is ゝ, the iteration mark.

    Returns:
        49 one-character strings; ``names[label]``.

    Example:

    >>> names = class_names()
    >>> len(names), names[0], names[48]
    (49, 'あ', 'ゝ')
    """
    return tuple(registry.get("k49").class_names.values())
