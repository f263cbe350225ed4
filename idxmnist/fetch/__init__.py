"""The fetch stage: verified files from mirrors, knowing nothing of arrays. Internal.

==============  ===============================================================
module          its job
==============  ===============================================================
``transfer``    one URL into one resumable ``.part``: HTTP(S) with ``Range``,
                or ``file://``; hashed while it streams
``pace``        the time rules of one request, kept on its socket: the answer
                within ``IDXMNIST_TIMEOUT``, then 16 KiB in every such span
``partial``     the ``.part`` files and their resume records
``tls``         which certificates https trusts, and what to say when that fails
``session``     the ``Session`` protocol the strategies receive; the steps they
                share (a whole file, once more from byte 0, size limits)
``single``      strategy: one file from one base mirror
``whole``       strategy: a file that holds the whole dataset (npz, zip, tar)
``members``     which archive member holds a file; keeping one that verifies
``archive``     strategy: an archive's members (EMNIST's ``gzip.zip``)
``ranged``      the members by HTTP ranges, not the whole archive
``download``    the mirror loop: ``fetch_dataset``, ``fetch_file``, its errors
==============  ===============================================================

Policy (mirror order, verification, resume, offline) is in
``docs/sources.md``.
"""

__all__: list[str] = []
