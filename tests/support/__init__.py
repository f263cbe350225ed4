"""What the tests share that is not a test: servers, synthetic data, helpers.

``httpserver`` is the loopback HTTP(S) server with fault modes; ``family``
builds small EMNIST, QMNIST and Kuzushiji-49 releases; ``helpers`` holds the
upstream names, the CLI runners and a cache's listing; ``syscalls`` runs a
child under ``strace`` and checks the order of its writes, fsyncs and renames;
the other modules hold the synthetic datasets several test files build on.
Fixtures are in the ``conftest.py`` files; no test file imports from another.
"""
