"""EMNIST, keras style and upright: ``from idxmnist import emnist; emnist.load_data("letters")``.

The six splits of NIST's Extended MNIST (Cohen et al., 2017), 28x28
grayscale handwritten characters:

=========  ======================  =======  ====================================
split      train / test            classes  labels
=========  ======================  =======  ====================================
byclass    697,932 / 116,323       62       0-9 digits, 10-35 A-Z, 36-61 a-z
bymerge    697,932 / 116,323       47       15 lower-case letters merged into capitals
balanced   112,800 / 18,800        47       as bymerge, the same count per class
letters    124,800 / 20,800        26       **1..26**, a-z merged with A-Z
digits     240,000 / 40,000        10       0-9
mnist      60,000 / 10,000         10       0-9
=========  ======================  =======  ====================================

The files store each image transposed; :func:`load_data` returns them
upright (as MNIST's and as a person reads them) unless ``upright=False``.
"""

from __future__ import annotations

import os

from .datasets import catalog, registry
from .datasets.layout import Arrays
from .datasets.spec import DatasetSpec
from .load.loader import load_dataset

__all__ = ["load_data", "class_names", "SPLITS"]

#: the split names, as ``load_data`` accepts them
SPLITS = catalog.EMNIST_SPLITS


def _spec(split: str) -> DatasetSpec:
    if split not in SPLITS:
        raise ValueError(f"unknown EMNIST split {split!r}; the splits: {', '.join(SPLITS)}")
    return registry.get(f"emnist_{split}")


def load_data(
    split: str = "balanced",
    path: str | os.PathLike[str] | None = None,
    *,
    upright: bool = True,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> Arrays:
    """Loads one split of EMNIST, upright by default.

    The first call reads the split's four files, verified, from NIST's
    ``gzip.zip``: members read straight from the archive, never extracted
    to disk nor held in memory whole, each image turned upright while it is
    decoded. The result is cached as an npz and memory-mapped on every later
    call. Downloaded, the split's four verified members are kept in
    ``<cache dir>/emnist/`` (the 536 MiB archive itself is not).

    Args:
        split: ``"byclass"``, ``"bymerge"``, ``"balanced"`` (default),
            ``"letters"``, ``"digits"`` or ``"mnist"``.
        path: the cache file's name, relative to the cache directory
            (default ``emnist-<split>.npz``, or ``emnist-<split>-transposed.npz``
            for ``upright=False``: the two orientations are different files);
            idxmnist writes its cache as ``<name>.idxmnist.npz``.
        upright: True: images as a person reads them, in MNIST's orientation.
            False: exactly as stored (what torchvision and TFDS return).
        source: where to build the cache from: a directory holding
            ``gzip.zip``, its extracted ``gzip/`` folder, or the split's four
            member files; or a base URL serving ``gzip.zip``. Default:
            ``$IDXMNIST_SOURCE/emnist``, else the registry's mirror
            (``$IDXMNIST_MIRRORS`` replaces it).
        cache_dir: the cache directory, overriding the environment.
        offline: ``True``: no network access at all (a missing file raises
            at once, saying how to import it); default ``$IDXMNIST_OFFLINE``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``, uint8: images of shape
        ``(n, 28, 28)`` and labels of shape ``(n,)``, exactly as stored.
        **Letters' labels are 1..26** (the mapping file's); for 0..25 write
        ``y_train = y_train - 1``. :func:`class_names` names each label.

    Raises:
        ValueError: an unknown split.
        IdxError: a file or member is malformed, truncated, not the split's
            (its size is not the published one), or holds labels outside the
            split's; the message names the file (and member).
        DownloadError: no mirror delivered a verified ``gzip.zip``.
        FileNotFoundError: ``source`` holds neither the files nor ``gzip.zip``.

    Example:

    ```python
    from idxmnist import emnist
    (x_train, y_train), (x_test, y_test) = emnist.load_data("letters")
    assert x_train.shape == (124800, 28, 28)
    names = emnist.class_names("letters")      # {1: 'Aa', ..., 26: 'Zz'}
    print(names[int(y_train[0])])
    ```

    >>> (x_train, y_train), (x_test, y_test) = load_data("digits")  # doctest: +SKIP

    License:
        EMNIST is by Gregory Cohen, Saeed Afshar, Jonathan Tapson and André
        van Schaik (2017), derived from NIST Special Database 19.
    """
    return load_dataset(
        _spec(split), path, source=source, cache_dir=cache_dir, upright=upright, offline=offline
    )


def class_names(split: str = "balanced") -> dict[int, str]:
    """The characters each label of an EMNIST split stands for, from the official mapping.

    Read from the split's ``emnist-<split>-mapping.txt``, shipped unchanged
    with idxmnist. Keys are the labels exactly as ``load_data`` returns
    them, so ``names[y]`` works for every split. A label that stands for a
    letter in both cases is named by both, as its mapping line lists both
    codes: letters' label 1 (``1 65 97``) is ``"Aa"``. (bymerge's and
    balanced's merged classes list only the capital: label 12 is ``"C"``.) A dict,
    not a list, because letters' labels start at 1: ``class_names("letters")``
    has 26 entries, keys 1..26, and no label 0.

    Args:
        split: as for :func:`load_data`.

    Returns:
        ``{label: characters}``, in label order (a new dict each call).

    Raises:
        ValueError: an unknown split.

    Example:

    >>> class_names("letters")[1], len(class_names("letters"))
    ('Aa', 26)
    >>> class_names("balanced")[36]
    'a'
    >>> # letters with labels 0..25: y - 1, and the names shifted alike
    >>> [class_names("letters")[i + 1] for i in range(3)]
    ['Aa', 'Bb', 'Cc']
    """
    return _spec(split).class_names
