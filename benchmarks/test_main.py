"""``python -m benchmarks``: what it refuses before measuring anything."""

from __future__ import annotations

import time

import pytest

from idxmnist.idx import compression

from .__main__ import main


def test_family_without_deflate_is_refused_at_once_naming_the_extra(tmp_path, monkeypatch, capsys):
    """Not after minutes of building the synthetic family: its floor is libdeflate's."""
    monkeypatch.setattr(compression, "libdeflate", lambda: None)
    start = time.monotonic()
    with pytest.raises(SystemExit) as info:
        main(["--source", str(tmp_path), "--family"])
    assert info.value.code == 2 and time.monotonic() - start < 5
    err = capsys.readouterr().err
    assert err.endswith(
        "error: --family measures against the libdeflate floor: pip install 'idxmnist[fast]'\n"
    )
    assert list(tmp_path.iterdir()) == []
