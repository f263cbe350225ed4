"""The manage stage: the back-ends of ``idxmnist import``, ``export`` and ``verify``. Internal.

=============  =================================================================
module         its job
=============  =================================================================
``importer``   install verified files from copies at hand (files, folders,
               archives, other tools' layouts)
``export``     write a dataset's verified files where another tool looks
``diagnose``   say what each file in a folder is, by content; repair
=============  =================================================================
"""

__all__: list[str] = []
