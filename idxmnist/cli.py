"""The ``idxmnist`` command line.

Exit codes: 0 success, 1 bad data, checksum mismatch or failed download,
2 usage error. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import DownloadError, IdxError

EXAMPLES = {
    "build": "idxmnist build --source ~/data/mnist --out mnist.npz",
    "info": "idxmnist info train-images-idx3-ubyte.gz ~/.keras/datasets/mnist.npz",
    "fetch": "idxmnist fetch --dataset fashion_mnist",
    "verify": "idxmnist verify ~/.keras/datasets/mnist",
    "bench": "idxmnist bench --source ~/data/mnist",
    "preview": "idxmnist preview --source ~/data/mnist --out grid.png",
}


EXIT_CODES = "exit codes: 0 ok, 1 bad data / checksum mismatch / download failed, 2 usage"


def _sizes(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


def cmd_build(args: argparse.Namespace) -> int:
    from .datasets.loader import build_npz

    out = build_npz(args.source, args.out, compress=args.compress)
    print(f"wrote {out}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .info import describe_file

    status = 0
    for path in args.files:
        try:
            print(describe_file(path))
        except (IdxError, OSError) as exc:
            print(f"idxmnist: error: {exc}", file=sys.stderr)
            status = 1
    return status


def cmd_fetch(args: argparse.Namespace) -> int:
    from .datasets.download import cli_fetch

    return cli_fetch(args)


def cmd_verify(args: argparse.Namespace) -> int:
    from .datasets.download import cli_verify

    return cli_verify(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import cli_bench

    return cli_bench(args)


def cmd_preview(args: argparse.Namespace) -> int:
    from .preview import cli_preview

    return cli_preview(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idxmnist",
        description="Load MNIST-style IDX datasets into NumPy; build and inspect mnist.npz.",
        epilog="examples:\n"
        + "".join(f"  {EXAMPLES[c]}\n" for c in ("build", "info", "preview"))
        + "\n"
        + EXIT_CODES
        + "\n'idxmnist COMMAND --help' describes each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, func) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=f"example:\n  {EXAMPLES[name]}\n\n{EXIT_CODES}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    p = add("build", "build an mnist.npz from the four IDX files in a directory", cmd_build)
    p.add_argument("--source", required=True, metavar="DIR", help="directory with the IDX files")
    p.add_argument("--out", default="mnist.npz", metavar="PATH", help="default: ./mnist.npz")
    p.add_argument(
        "--compress",
        action="store_true",
        help="deflate the members (small, like keras's file; slower to load)",
    )

    p = add("info", "describe IDX or npz files: type, shape, compression, sizes", cmd_info)
    p.description = (
        "Describe IDX files (raw or .gz/.xz/.bz2): type, shape, compression, sizes.\n"
        "Describe npz caches: each member's dtype, shape, and whether it is stored and\n"
        "aligned for memory mapping or deflate-compressed. Label files and y_* members\n"
        "also get the count of each label."
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="IDX or .npz files")

    p = add("fetch", "download and verify a dataset's IDX files, print where they are", cmd_fetch)
    p.add_argument("--dataset", default="mnist", help="mnist, fashion_mnist or kmnist")
    p.add_argument("--dir", metavar="DIR", help="where to put them (default: the cache)")

    p = add("verify", "check the checksums of the dataset files in a directory", cmd_verify)
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--dataset", default=None, help="which registry entry (default: detect)")

    p = add("bench", "time idxmnist against the loaders people use today", cmd_bench)
    p.add_argument("--source", metavar="DIR", help="the four MNIST .gz files")
    p.add_argument("--rounds", type=int, default=7, help="timed runs per loader (median shown)")

    p = add("preview", "show sample digits with their labels (terminal or PNG)", cmd_preview)
    p.description = (
        "Show sample images with their labels: the first N/10 of each class, one row\n"
        "per class. Without --out, print them with Unicode block characters (into a\n"
        "pipe too); with --out, write a PNG grid."
    )
    p.add_argument(
        "--dataset",
        default="mnist",
        help="mnist (default), fashion_mnist or kmnist, via load_data()",
    )
    p.add_argument("--source", metavar="DIR", help="read the four IDX files in DIR instead")
    p.add_argument("--split", choices=("train", "test"), default="train", help="default: train")
    p.add_argument("--out", metavar="PNG", help="write a PNG grid (needs idxmnist[preview])")
    p.add_argument("--n", type=int, default=100, help="number of images (default 100)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (IdxError, DownloadError, OSError, ValueError) as exc:
        print(f"idxmnist: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
