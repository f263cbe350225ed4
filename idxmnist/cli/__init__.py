"""The cli stage: the ``idxmnist`` command line. Internal, but for ``main``.

==========  ===================================================================
module      its job
==========  ===================================================================
``main``    every argparse line, each command's handler, the exit codes
``info``    ``idxmnist info``: what an IDX, npz or zip file holds
``preview`` ``idxmnist preview``: sample images in the terminal or a PNG
``bench``   ``idxmnist bench``: time idxmnist against today's loaders
            (measure and render; the targets are in ``benchmarks/``)
==========  ===================================================================
"""

from .main import main, parser, status

__all__ = ["main", "parser", "status"]
