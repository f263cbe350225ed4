"""What keras 3 does with ``~/.keras/datasets``, for tests: a small, faithful copy of its logic.

keras is not installed here and its download URL cannot be reached, so the
tests drive this instead. It follows ``keras/src/utils/file_utils.py``
``get_file`` and ``keras/src/datasets/mnist.py`` ``load_data`` (keras 3), step
for step where the cache is concerned, and nothing else:

* the cache is ``$KERAS_HOME`` (else ``~/.keras``) ``/datasets/<fname>``;
* a file found there is checked against ``file_hash`` (SHA-256 for a 64-digit
  hash); when it does not match, keras says so and downloads it again;
* the download (``urlretrieve`` to the final name) that fails removes whatever
  is at that name, then raises; a download whose hash does not match raises
  ``ValueError`` (the file is left);
* ``mnist.load_data`` then reads the four arrays with ``np.load``.

Run as a script (``python -m tests.support.keras_fake ORIGIN HASH``) it is
what a keras user's ``keras.datasets.mnist.load_data()`` does, in its own
process, and prints a JSON line: the arrays' sums, or the error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

#: keras.datasets.mnist's own pin of its mnist.npz
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def keras_home() -> Path:
    """keras's ``config.keras_home()``: ``$KERAS_HOME``, else ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def validate_file(path: Path, file_hash: str) -> bool:
    algorithm = "sha256" if len(file_hash) == 64 else "md5"
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest() == file_hash


def get_file(
    fname: str, origin: str, file_hash: str | None, cache_subdir: str = "datasets"
) -> Path:
    datadir = keras_home() / cache_subdir
    datadir.mkdir(parents=True, exist_ok=True)
    target = datadir / fname
    download = True
    if target.exists():
        download = False
        if file_hash is not None and not validate_file(target, file_hash):
            print(
                "A local file was found, but it seems to be incomplete or outdated because "
                f"the file hash does not match the original value of {file_hash} so we will "
                "re-download the data.",
                file=sys.stderr,
            )
            download = True
    if download:
        try:
            try:
                urllib.request.urlretrieve(origin, target)
            except urllib.error.HTTPError as e:
                raise Exception(f"URL fetch failure on {origin}: {e.code} -- {e.msg}") from e
            except urllib.error.URLError as e:
                raise Exception(f"URL fetch failure on {origin}: {e.errno} -- {e.reason}") from e
        except (Exception, KeyboardInterrupt):
            if target.exists():
                os.remove(target)
            raise
        if target.exists() and file_hash is not None and not validate_file(target, file_hash):
            raise ValueError(
                "Incomplete or corrupted file detected. The sha256 file hash does not match "
                f"the provided value of {file_hash}."
            )
    return target


def mnist_load_data(origin: str, file_hash: str = KERAS_MNIST_SHA256, path: str = "mnist.npz"):
    """keras.datasets.mnist.load_data, with its origin and pin as arguments."""
    found = get_file(path, origin, file_hash)
    with np.load(found, allow_pickle=True) as f:  # as keras does; the test's own files
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def main() -> int:
    origin, file_hash = sys.argv[1], sys.argv[2]
    try:
        (x, y), (xt, yt) = mnist_load_data(origin, file_hash)
    except Exception as exc:  # what the user would see
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps({"sums": [int(a.sum()) for a in (x, y, xt, yt)]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
