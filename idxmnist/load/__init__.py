"""The load stage: a dataset's files -> checked arrays -> the npz cache. Internal.

=============  =================================================================
module         its job
=============  =================================================================
``assemble``   find a dataset's files (or archive members) in a folder, read
               them (in parallel where that pays), check them against the entry
``loader``     ``load_arrays`` (a stamped hit, or the store filled and the
               cache built under a lock), ``stock`` (fill the store from what
               the cache holds), ``load_dataset``, ``hand_out`` (rows, class
               column or records)
``metadata``   MNIST's per-image records (``mnist.load_data(extended=True)``):
               QMNIST's two label files and the review, lined up, cached
=============  =================================================================

The six dataset modules (``idxmnist.mnist`` ... ``idxmnist.k49``) belong to
this stage too: each is a thin public face over ``loader``.
"""

__all__: list[str] = []
