"""``errors.warn``: a library warning points at the user's line and keeps its category.

(What the library warns about, and where: ``tests/contracts/test_warnings.py``.)
"""

from __future__ import annotations

import pytest

from idxmnist.errors import warn

from .support.helpers import caught


def test_the_helper_skips_every_idxmnist_frame():
    def user_line():
        warn("from the library")  # a frame of this test module: the caller itself

    _, record = caught(user_line)
    assert record[0].filename == __file__
    assert record[0].lineno == user_line.__code__.co_firstlineno + 1


@pytest.mark.parametrize("category", [RuntimeWarning, UserWarning])
def test_the_helper_keeps_the_category(category):
    _, record = caught(lambda: warn("x", category))
    assert record[0].category is category
