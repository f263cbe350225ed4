"""The dataset layer: which files make a dataset, where they come from, the cache.

``layout`` (the four keys and the keras tuple), ``registry`` (every dataset's
files, sizes, checksums, mirrors and classes, as data), ``download`` and
``checksum`` (verified files from mirrors), ``assemble`` (four IDX files ->
the checked tuple), ``cache`` (where the cache lives), ``npzfile`` (the
aligned npz, written atomically, loaded by mmap), ``loader`` (``load_data``).
"""

__all__: list[str] = []
