"""The ``idxmnist`` command line: every argument, handler and exit code.

All argparse code lives here; the commands call the plain functions of the
modules that do the work. Results go to stdout, status lines to stderr.

Every line printed goes through :func:`~idxmnist.errors.printable_lines`
(:func:`say`, :func:`status`, :func:`error`): a name from outside (a file,
an archive member, a URL) never reaches the terminal as control characters.

Exit codes: 0 success; 1 bad data, a checksum mismatch, a failed download or
a file that cannot be read or written (one line on stderr, ``idxmnist:
error: ...``; a failed download adds one line per mirror tried); 2 a usage
error (argparse's ``usage:`` and ``idxmnist COMMAND: error: ...``). Any other
exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import config
from ..datasets import registry
from ..datasets.spec import Split
from ..errors import DownloadError, IdxError, printable_lines

__all__ = ["main", "parser", "status", "say", "error"]

EXAMPLES = {
    "build": "idxmnist build --source ~/data/mnist --out mnist.npz",
    "info": "idxmnist info train-images-idx3-ubyte.gz ~/.keras/datasets/mnist.npz",
    "fetch": "idxmnist fetch --dataset emnist-letters",
    "verify": "idxmnist verify ~/.keras/datasets/fashion-mnist --repair",
    "import": "idxmnist import ~/Downloads/mnist.npz ~/Downloads/gzip.zip ~/data/MNIST/raw",
    "export": "idxmnist export --layout torchvision ~/data --dataset mnist --dataset qmnist",
    "bench": "idxmnist bench --source ~/data/mnist",
    "preview": "idxmnist preview --dataset emnist-letters --n 26",
}
EXIT_CODES = "exit codes: 0 ok, 1 bad data / checksum mismatch / download failed, 2 usage"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # only --version reads it

    try:
        return version("idxmnist")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def say(text: object) -> None:
    """A result on stdout, each line printable."""
    print(printable_lines(str(text)))


def status(message: str) -> None:
    """A status line, on stderr so that stdout holds only the results."""
    print(printable_lines(f"idxmnist: {message}"), file=sys.stderr)


def error(message: object) -> None:
    """``idxmnist: error: MESSAGE`` on stderr (a failed download adds a line per mirror)."""
    print(printable_lines(f"idxmnist: error: {message}"), file=sys.stderr)


# -- argument types: a bad value is a usage error (exit 2) --------------------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def dataset_name(text: str) -> str:
    """A registry name, any case, ``-`` or ``_``: ``fashion-mnist`` -> ``fashion_mnist``."""
    return text.replace("-", "_").lower()


def directory(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such directory")
    return path


# -- the commands -------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    from ..mnist import build_npz  # each command imports only what it runs

    out = build_npz(args.source, args.out, compress=args.compress)
    status(f"built {out} from {args.source}")
    say(out)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .info import describe_file  # each command imports only what it runs

    failed = 0
    for path in args.files:
        try:
            say(describe_file(path))
        except (IdxError, OSError) as exc:
            error(exc)
            failed = 1
    return failed


def cmd_fetch(args: argparse.Namespace) -> int:
    from ..load.loader import stock  # each command imports only what it runs

    spec = registry.get(args.dataset)
    dest = args.dir if args.dir is not None else config.cache_dir() / spec.subdir
    before = {r.name for r in spec.remote_files if (dest / r.name).is_file()}
    files = stock(spec, store=args.dir)
    new = len({path for path in files.values() if path.name not in before})
    status(f"{spec.name}: {len(spec.remote_files)} files verified in {dest} ({new} new)")
    say(dest)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ..manage import diagnose  # each command imports only what it runs
    from ..store.identify import Catalog

    folder: Path = args.dir
    specs = list(registry.DATASETS.values())
    catalog = Catalog(specs, folder.parent)  # with the content pins learnt in that cache
    if args.dataset is not None:
        spec = registry.get(args.dataset)
    else:
        found, how = diagnose.expected_spec(folder, specs, catalog)
        if found is None:
            spec = registry.get("mnist")
            status(f"no file in {folder} is a known dataset's; checking it as {spec.name}")
        else:
            spec = found
            status(f"{folder} should hold {spec.name} ({how})")
    findings = diagnose.check_dir(folder, spec, catalog)
    if args.repair:
        for line in diagnose.repair(folder, spec, findings, specs):
            status(line)
        findings = diagnose.check_dir(folder, spec, catalog)
    for finding in findings:
        say(finding)
    present = [f for f in findings if f.status != "missing"]
    bad = [f for f in findings if f.status == "bad"]
    missing = [f for f in findings if f.status == "missing"]
    if not present:
        error(f"none of the {spec.name} files is in {folder}")
        return 1
    if bad or missing:
        what = ", ".join(f"{n} {w}" for n, w in ((len(bad), "bad"), (len(missing), "missing")) if n)
        fix = "" if args.repair else ": idxmnist verify --repair fixes what it can"
        error(f"{spec.name} in {folder}: {what}{fix}")
        return 1
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..manage.importer import import_paths, summary  # each command imports what it runs

    outcomes = import_paths(args.paths, cache_dir=args.cache_dir)
    for outcome in outcomes:
        say(outcome)
    known = [o for o in outcomes if o.known is not None]
    for line in summary(known, args.cache_dir):
        status(line)
    if not known:
        error(
            f"none of the {len(outcomes)} files looked at is a known dataset file (see why above)"
        )
        return 1
    installed = sum(o.installed is not None for o in known)
    status(f"recognised {len(known)} of {len(outcomes)} files; installed {installed}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..manage.export import export_dataset  # each command imports only what it runs

    specs = [registry.get(name) for name in dict.fromkeys(args.dataset or ["mnist"])]
    if args.layout == "torchvision":
        lacking = [s.name for s in specs if not s.torchvision]
        if lacking:
            args.parser.error(
                f"argument --layout: torchvision has no class for {', '.join(lacking)} "
                "(Kuzushiji-49 has none; KMNIST is the only Kuzushiji one); "
                "--layout plain writes the upstream files"
            )
    for spec in specs:
        for path, what in export_dataset(spec, args.layout, args.dir, cache_dir=args.cache_dir):
            say(path)
            status(f"{spec.name}: wrote {path} ({what})")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench  # each command imports only what it runs

    report = bench.measure(args.source, args.rounds, log=status)
    print(bench.render(report))
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from ..datasets.layout import pair_of  # each command imports only what it runs
    from ..load import loader
    from . import preview

    spec = registry.get(args.dataset)
    split = args.split if args.split is not None else spec.splits[0].name
    if args.reviewed:
        if spec.name != "mnist":
            args.parser.error(
                f"argument --reviewed: the label review is of MNIST's test set (--dataset "
                f"mnist); {spec.name} has none"
            )
        if args.split not in (None, "test"):
            args.parser.error("argument --reviewed: the reviewed labels are MNIST's test labels")
        split = "test"
    if split not in [s.name for s in spec.splits]:
        args.parser.error(
            f"argument --split: {spec.name} has splits "
            f"{', '.join(s.name for s in spec.splits)}, not {split!r}"
        )
    if args.out is not None:
        if not preview.pillow_available():
            error(f"--out needs Pillow: {preview.PILLOW_HINT}")
            return 1
        try:
            preview.image_format(args.out)
        except ValueError as exc:
            args.parser.error(f"argument --out: {exc}")
    if args.source is not None:
        from ..load.assemble import find_sources, read_arrays

        # the files as they are, any size: a preview of a folder, not a load of the dataset
        splits = tuple(Split(s.name, None, s.rows) for s in spec.splits)
        spec = dataclasses.replace(spec, splits=splits)
        arrays = read_arrays(spec, find_sources(args.source, spec))
    else:
        arrays = loader.load_arrays(spec)
    xk, yk = pair_of(split)
    shown = loader.hand_out(arrays, spec)
    images, labels = shown[xk], shown[yk]
    if args.reviewed:
        return _preview_reviewed(args, images, labels)
    rows = preview.select_samples(labels, args.n)
    if args.out is not None:
        out = preview.render_png(images, labels, rows, args.out)
        count = sum(len(r) for r in rows)
        status(f"wrote {count} {split} images, one row per class")
        say(out)
        return 0
    classes = spec.class_names
    digits = all(name == str(label) for label, name in classes.items())
    width = shutil.get_terminal_size((80, 24)).columns
    names = None if digits else classes
    print(preview.render_text(images, labels, rows, width=width, names=names))
    return 0


def _preview_reviewed(args: argparse.Namespace, images: Any, labels: Any) -> int:
    """``preview --reviewed``: MNIST's test images whose labels people judged wrong."""
    from ..datasets import review  # each command imports only what it runs
    from . import preview

    table = review.load_review()
    where = f"{args.source or config.cache_path(registry.get('mnist').npz_name)}[y_test]"
    review.check_given(table, labels, where)
    errors = preview.reviewed_errors(table, args.n)
    captions = preview.review_captions(errors)
    indices = errors["index"]
    status(
        f"{int(table['label_error'].sum())} of the {len(table)} reviewed test labels are judged "
        f"wrong; showing {len(indices)}"
    )
    if args.out is not None:
        rows = [indices[i : i + 5] for i in range(0, len(indices), 5)]
        say(preview.render_png(images, labels, rows, args.out, captions=captions))
        return 0
    width = shutil.get_terminal_size((80, 24)).columns
    print(preview.REVIEW_LEGEND)
    print(preview.render_text(images, labels, [indices], width=width, captions=captions))
    return 0


# -- the parser ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The ``idxmnist`` argument parser, with every subcommand."""
    top = argparse.ArgumentParser(
        prog="idxmnist",
        description="Load MNIST-style IDX datasets into NumPy; build and inspect mnist.npz.",
        epilog="examples:\n"
        + "".join(f"  {EXAMPLES[c]}\n" for c in ("build", "info", "preview"))
        + "\n"
        + EXIT_CODES
        + "\n'idxmnist COMMAND --help' describes each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"idxmnist {_version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    datasets = registry.names()

    def add(
        name: str, summary: str, func: Callable[[argparse.Namespace], int], description: str = ""
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=description or summary,
            epilog=f"example:\n  {EXAMPLES[name]}\n\n{EXIT_CODES}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func, parser=p)
        return p

    listed = ", ".join(name.replace("_", "-") for name in datasets)

    def dataset_option(
        p: argparse.ArgumentParser, default: str | None, help_: str, *, repeat: bool = False
    ) -> None:
        p.add_argument(
            "--dataset",
            type=dataset_name,
            choices=datasets,
            default=default,
            action="append" if repeat else "store",
            metavar="NAME",
            help=f"{help_}; one of: {listed}",
        )

    p = add("build", "build an mnist.npz from the four IDX files in a directory", cmd_build)
    p.add_argument("--source", required=True, type=directory, metavar="DIR", help="the IDX files")
    p.add_argument("--out", default="mnist.npz", metavar="PATH", help="default: ./mnist.npz")
    p.add_argument(
        "--compress",
        action="store_true",
        help="deflate the members (small, like keras's file; slower to load)",
    )

    p = add(
        "info",
        "describe IDX or npz files: type, shape, compression, sizes",
        cmd_info,
        "Describe IDX files (raw or .gz/.xz/.bz2): type, shape, compression, sizes.\n"
        "Describe npz caches: each member's dtype, shape, and whether it is stored and\n"
        "aligned for memory mapping or deflate-compressed. Label files and y_* members\n"
        "also get the count of each label.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="IDX or .npz files")

    p = add("fetch", "download and verify a dataset's IDX files, print where they are", cmd_fetch)
    dataset_option(p, "mnist", "which dataset (default: mnist)")
    p.add_argument("--dir", type=Path, metavar="DIR", help="where to put them (default: the cache)")
    p.epilog = (
        "Files already there are verified and kept; with $IDXMNIST_SOURCE (a folder,\n"
        "an .npz/.zip/.tar, or a base URL) they come from there before the mirrors.\n\n"
        + (p.epilog or "")
    )

    p = add(
        "verify",
        "say what each dataset file in a directory is, by content; --repair fixes",
        cmd_verify,
        "Check each of a dataset's files in DIR by its exact bytes, else by its\n"
        "decompressed IDX content, and name what a bad one is: a zero-byte leftover,\n"
        "an HTML page, a truncated file, another dataset's file, bytes that match\n"
        "nothing. A decompressed copy under a .gz name is valid by content.\n"
        "--repair renames and moves what is misplaced, fetches verified copies of\n"
        "what is bad or missing, and removes a bad file only once it is replaced\n"
        "(empty files and HTML pages excepted); it says what it did.",
    )
    p.add_argument("dir", type=directory, metavar="DIR")
    dataset_option(p, None, "which registry entry (default: by the folder's name, else checksums)")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed (see above)")

    p = add(
        "import",
        "install verified dataset files from files, folders or archives you have",
        cmd_import,
        "Look at each PATH (a file, a folder, walked recursively, or an archive: a\n"
        "keras-layout .npz such as keras's mnist.npz, a .zip such as EMNIST's gzip.zip,\n"
        "a .tar in any compression), in any layout (torchvision's MNIST/raw/, .gz or\n"
        "decompressed files). Each file is identified by its exact or its decompressed\n"
        "content's checksum against every registered dataset; verified ones are copied\n"
        "into the cache, so loads work offline. Prints what was recognised and what\n"
        "was skipped, and why.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--cache-dir", type=Path, metavar="DIR", help="default: the cache directory")

    p = add(
        "export",
        "write a dataset's verified files in another tool's layout",
        cmd_export,
        "Write the verified files from the cache (fetched first if missing) into DIR:\n"
        "  --layout torchvision  DIR/<Class>/raw/ (MNIST, FashionMNIST, KMNIST, EMNIST,\n"
        "                        QMNIST), decompressed, named as torchvision looks for\n"
        "                        them: train-images-idx3-ubyte, train-labels-idx1-ubyte,\n"
        "                        t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte;\n"
        "                        emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte;\n"
        "                        qmnist-{train,test}-{images-idx3-ubyte,labels-idx2-int},\n"
        "                        xnist-...; so torchvision never goes online.\n"
        "                        Kuzushiji-49 has no torchvision class.\n"
        "  --layout plain        DIR/<mnist|fashion-mnist|emnist|...>/, the upstream files",
    )
    p.add_argument("--layout", required=True, choices=("torchvision", "plain"))
    p.add_argument("dir", type=Path, metavar="DIR")
    dataset_option(p, None, "which dataset; repeat for several (default: mnist)", repeat=True)
    p.add_argument("--cache-dir", type=Path, metavar="DIR", help="default: the cache directory")

    source = config.source()
    p = add("bench", "time idxmnist against the loaders people use today", cmd_bench)
    p.add_argument(
        "--source",
        type=directory,
        metavar="DIR",
        default=source,
        required=not source,
        help="the folder holding the four upstream MNIST .gz files; $IDXMNIST_SOURCE "
        "stands in for it when set",
    )
    p.add_argument(
        "--rounds", type=positive_int, default=7, help="timed runs per loader (median shown)"
    )

    p = add(
        "preview",
        "show sample images with their labels (terminal or PNG)",
        cmd_preview,
        "Show sample images with their labels: the first N/10 of each class, each\n"
        "labelled with its class name where the dataset has names (letters, kana).\n"
        "Images are shown upright (EMNIST's turned as MNIST's). Without --out, print\n"
        "them with Unicode block characters (into a pipe too), class after class,\n"
        "wrapped to the terminal's width; with --out, write a picture, one row per\n"
        "class (PNG, or the format the file's suffix names: .jpg, .webp, ...).\n"
        "--reviewed (MNIST): the test images whose labels people judged wrong,\n"
        "captioned with the test index, the given and the guessed label and the votes.",
    )
    dataset_option(p, "mnist", "which dataset, via its load_data() (default: mnist)")
    p.add_argument(
        "--source",
        type=directory,
        metavar="DIR",
        help="read the dataset's files in DIR (EMNIST: or its gzip.zip)",
    )
    p.add_argument(
        "--split", metavar="SPLIT", help="train (default), test, or the dataset's own (nist)"
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write a picture (.png, .jpg, ...) instead (needs idxmnist[preview])",
    )
    p.add_argument("--n", type=positive_int, default=100, help="number of images (default 100)")
    p.add_argument(
        "--reviewed",
        action="store_true",
        help="MNIST: the 15 test images whose labels people judged wrong, each with its "
        "index, the given and the guessed label and the votes (Northcutt et al., 2021)",
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args, extra = parser().parse_known_args(argv)
    if extra:  # reported by the subcommand, like its other usage errors
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except (IdxError, DownloadError, OSError) as exc:
        # the project's two families, and the file system's (a missing or
        # unwritable file): each message already names the file
        error(exc)
        return 1
    except KeyboardInterrupt:
        return 130
