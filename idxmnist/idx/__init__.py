"""The format stage: bytes <-> arrays, with no notion of datasets. Internal.

=================  ==============================================================
module             its job
=================  ==============================================================
``format``         the IDX spec (the module docstring), its type codes, reading
                   and writing a header
``compression``    gzip, xz, bz2 detected from the first bytes; bounded
                   streaming; libdeflate's whole-buffer inflate; the suffix table;
                   the HTML sniff
``decode``         the byte-order pass, NumPy or Numba (``_numba``: the kernels)
``memory``         inflate buffers advised for huge pages; the C library's handle
``reader``         ``read_idx``, ``read_idx_header``: source -> header -> array
``digest``         the content SHA-256 of the IDX bytes, whatever the container
``writer``         ``write_idx``: array -> IDX file
``scaling``        ``to_float32``: uint8 -> float32 in one pass
``transpose``      EMNIST's images turned upright while they are decoded
``ziparchive``     zip members read straight out of an archive, bounded
``zipdirectory``   a zip's end records and central directory from its tail
=================  ==============================================================

The public names (``read_idx``, ``write_idx``, ...) are re-exported by
``idxmnist``; nothing here is public under its own path.
"""

__all__: list[str] = []
