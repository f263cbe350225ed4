"""The format layer: bytes <-> arrays, with no notion of datasets.

``format`` (the IDX spec and its type codes), ``compression`` (gzip, xz, bz2
detected from the first bytes; bounded streaming; libdeflate whole-buffer),
``decode`` and ``_numba`` (the byte-order pass), ``reader`` (``read_idx``),
``writer`` (``write_idx``), ``scaling`` (``to_float32``).
"""

__all__: list[str] = []
