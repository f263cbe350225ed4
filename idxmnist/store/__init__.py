"""The store stage: the cache on disk, and whether what is there is the right data. Internal.

==============  ===============================================================
module          its job
==============  ===============================================================
``verify``      is this file the registry's: container checksum, else content
``pins``        content pins learnt from verified containers, kept in the folder
``kept``        a dataset's folder (the store): which of its files are there,
                verified, under which name; keeping one; the folder's lock
``identify``    which registered file is this (any file, any dataset)
``npzfile``     the npz cache: written atomically, loaded by mmap, no pickle;
                every ``.npy`` header parsed by one locked parser
``stamp``       the record that lets a cache hit trust idxmnist's own npz
                without reading it
``unpack``      files that hold a whole dataset (npz, zip, tar), member by member
==============  ===============================================================

Where the cache directory is comes from ``idxmnist.config``.
"""

__all__: list[str] = []
