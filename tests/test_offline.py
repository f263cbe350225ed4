"""Offline means no network access at all: the loopback server sees zero connections.

With ``IDXMNIST_OFFLINE=1`` (or ``offline=True``) a missing file is an error
at once, naming what is missing and how to import it; files already verified
in the cache load as usual; ``file://`` mirrors, being local, still work.
"""

from __future__ import annotations

import pytest

from idxmnist.datasets import download


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_bad_offline_value_is_refused(monkeypatch, value):
    monkeypatch.setenv("IDXMNIST_OFFLINE", value)
    with pytest.raises(ValueError, match="IDXMNIST_OFFLINE"):
        download.offline_mode()
