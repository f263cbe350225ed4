"""The built-in datasets, as data: their files, sizes, checksums, splits, mirrors, classes.

Each fact is written once: the six EMNIST splits share one :class:`Archive`,
QMNIST's ``test10k`` and ``test50k`` are its ``test`` split cut by rows.
Where each checksum comes from is said beside it. A mirror is either a base
URL (ending in ``/``; the file names, or the archive's name, are fetched
beneath it) or the URL of one file that holds the whole dataset (a
keras-layout ``.npz``, or a zip or tar of its files); ``docs/sources.md``
gives the order and why.

>>> EMNIST_SPLITS
('byclass', 'bymerge', 'balanced', 'letters', 'digits', 'mnist')
"""

from __future__ import annotations

import dataclasses

from .classes import ClassFile
from .spec import Algorithm, Archive, Column, DatasetSpec, RemoteFile, Split

__all__ = [
    "BUILTIN",
    "DIGITS",
    "MNIST",
    "FASHION_MNIST",
    "KMNIST",
    "EMNIST_ARCHIVE",
    "EMNIST_SPLITS",
    "QMNIST",
    "QMNIST_COLUMNS",
    "QMNIST_TEST_ROWS",
    "QMNIST_NIST",
    "K49",
]


def _files(algorithm: Algorithm, *entries: tuple[str, int, str]) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(name, size, algorithm, digest) for name, size, digest in entries)


def _files_with_content(
    *entries: tuple[str, int, str, int, str],
) -> tuple[RemoteFile, ...]:
    """``(name, size, sha256, IDX size, IDX sha256)`` each: container and content pinned."""
    return tuple(
        RemoteFile(name, size, "sha256", digest, content, content_size)
        for name, size, digest, content_size, content in entries
    )


DIGITS = tuple(str(d) for d in range(10))


# -- MNIST, Fashion-MNIST, KMNIST ---------------------------------------------------------

MNIST = DatasetSpec(
    name="mnist",
    npz_name="mnist.npz",
    subdir="mnist",
    # container: the upstream .gz files (TFDS's and the CVDF mirror's sha256);
    # content: `gzip -dc FILE | sha256sum` of those files
    files=_files_with_content(
        (
            "train-images-idx3-ubyte.gz",
            9912422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            47040016,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            28881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            60008,
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            1648877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            7840016,
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            4542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            10008,
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    ),
    # LeCun's own host is gone (403, then 503, then an HTML page; the domain
    # lapsed in 2026). keras's mnist.npz comes last: one 11 MB file, all or
    # nothing, verified by content; the per-file mirrors above fetch only
    # what is missing and keep the upstream .gz bytes
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    ),
    classes=DIGITS,
    splits=(Split("train", 60000), Split("test", 10000)),
    # keras.datasets.mnist's own pin of that file
    whole_files=(
        RemoteFile(
            "mnist.npz",
            11490434,
            "sha256",
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        ),
    ),
    torchvision="MNIST",
)

FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    npz_name="fashion-mnist.npz",
    subdir="fashion-mnist",
    # container: the sha256s keras.datasets.fashion_mnist pins (TFDS pins the same
    # for the zalando host; torchvision's md5s, 8d4fb7e6..., 25c81989...,
    # bef4ecab..., bb300cfd..., are of the same bytes). Content: the label files'
    # `gzip -dc FILE | sha256sum` and `gzip -dc FILE | wc -c`, computed
    # 2026-12-03 from the real files in ../shared/fashion-mnist (byte-identical
    # to these container pins); the image files' content is not known here, so
    # it is learnt the first time their containers verify (store/pins.py)
    files=(
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            26421880,
            "sha256",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            29515,
            "sha256",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            60008,
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            4422102,
            "sha256",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            5148,
            "sha256",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            10008,
        ),
    ),
    # keras's copy first: https, and the zalando host has timed out for weeks
    # at a time; the bytes are the same, pinned by the same sha256s
    mirrors=(
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    splits=(Split("train", 60000), Split("test", 10000)),
    torchvision="FashionMNIST",
)

KMNIST = DatasetSpec(
    name="kmnist",
    npz_name="kmnist.npz",
    subdir="kmnist",
    # TFDS's sha256s (the same sizes as torchvision's md5-pinned files, bdb82020...,
    # e144d726..., 5c965bf0..., 7320c461...); content hashes: no real copy here,
    # so they are learnt the first time the containers verify (store/pins.py)
    files=_files(
        "sha256",
        (
            "train-images-idx3-ubyte.gz",
            18165135,
            "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            29497,
            "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            3041136,
            "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            5120,
            "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
        ),
    ),
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    # kmnist_classmap.csv: the hiragana each label stands for (o, ki, su, tsu,
    # na, ha, ma, ya, re, wo)
    classes=(
        "\u304a",
        "\u304d",
        "\u3059",
        "\u3064",
        "\u306a",
        "\u306f",
        "\u307e",
        "\u3084",
        "\u308c",
        "\u3092",
    ),
    splits=(Split("train", 60000), Split("test", 10000)),
    torchvision="KMNIST",
)


# -- EMNIST: six splits, one archive ----------------------------------------------------

#: NIST's gzip.zip (torchvision and TFDS pin the same bytes): every split's four
#: members under ``gzip/``, and the six mapping files
EMNIST_ARCHIVE = Archive(
    file=RemoteFile(
        "gzip.zip",
        561753746,
        "sha256",
        "fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e",
    ),
    folder="gzip/",
    md5="58c8d27c78d21e728a6bc7b3cc06412e",
)
EMNIST_MIRRORS = ("https://biometrics.nist.gov/cs_links/EMNIST/",)

#: split -> (train, test) sizes (the EMNIST paper's Table II), then the members
#: train images, train labels, test images, test labels: (size, sha256) each
_EMNIST: dict[str, tuple[tuple[int, int], tuple[tuple[int, str], ...]]] = {
    "byclass": (
        (697932, 116323),
        (
            (173367313, "9e21987f03a6eb8b870187e785883ddad96947299587908f1a7ec2ca0f4be5f0"),
            (491603, "f7ef403d48dc18a89dae0d83d11ee69cecb6e1c12c3a961d03712e495c02a8fa"),
            (28908322, "5ec835bd5d5b1a66378a132e727fef20fe994b3cc666899befcca5ac766f50cd"),
            (81839, "501e305eeeacb093b162592d80e8a2632040872360fa6d85cfcb2200d91ca92a"),
        ),
    ),
    "bymerge": (
        (697932, 116323),
        (
            (173375281, "39bf8c68037dad40db35348895f7e4e056e8c0a005ab78869c9fbc2c96e947be"),
            (476444, "2c47293b9e62d6abf6ad05fbf67e40baa32adfd380b8d7b44dcc35534b64e1f1"),
            (28905295, "5e5815ec1b522089134435f7c55e75a00960b58414793593ffff23efc0821683"),
            (79351, "8bda1516255683ba9071e141947ca0c91a911176065cdd6259b0b4d8dc5b5f35"),
        ),
    ),
    "balanced": (
        (112800, 18800),
        (
            (28207740, "74295e75e4e9fa2c102147460ee7eb763653d5132d883a84fb88932bfb8d2db4"),
            (80618, "b46d41e5156a0a8aaaa4d18979fdd1588850fa8571018acffd5d93b325a7d6ed"),
            (4714707, "117fc12b015e37ea98bfb2cbba3f77c3782c056cdbd219b87abfc8661d7135db"),
            (13504, "a67cac948379b67270b9a4d0a01c8ec661598accf2f2b1964340b7c83cb175cd"),
        ),
    ),
    "letters": (
        (124800, 20800),
        (
            (30804864, "6288f418a917e007bf5fddb823a2dc7a5c6a35031401b93292a539cb12bd881f"),
            (79283, "9759af91ea6bccdf07a6040fd085861f2ec88e37f7c3f5760f6feb57106fbe5c"),
            (5039157, "50f0e93d75b99b463e9760b8345866f22587fa2c2fba472730a5ba09c693412d"),
            (144, "924955c31fe7fd809b7303b5c0141282955f4b8390c74cdfd5d80435e0f4b4cb"),
        ),
    ),
    "digits": (
        (240000, 40000),
        (
            (59515779, "f7c95004d14d81af89522e67d8f0c781dfb3bd544181c81bfe1eb6b41c35b726"),
            (113859, "6638a6ff5fe2eefd9cca2471995b46c82986b8e4b2a70d2f5ce8e05d7edb319e"),
            (9908519, "20ebe43509264f7639d37c835a3f0b009e90b29e00a099a03101abe1644a3f63"),
            (19960, "bad1834c45d5988e270b99d43b13edc3fd898f658ffbc2caf2846ef27f7b05b0"),
        ),
    ),
    "mnist": (
        (60000, 10000),
        (
            (14873795, "5f9942f441031c0f1f2e4d162059fd6e19ea808b34c328b6d16cab0ed24c78f2"),
            (29480, "00c6d3c2342fdffb1711e0b5656cac4ce5862d2826399d383a9bac07d612e9f8"),
            (2484884, "b25640fa9e356c618132f5df347c95ef5bae6d9c2596be1de40f7e0ae1c3eac6"),
            (5144, "bcc5385d38f083dba046f5f756e99b32f5ea7fad122c6243c71c2239873065ca"),
        ),
    ),
}
EMNIST_SPLITS = tuple(_EMNIST)
_PARTS = ("train-images-idx3", "train-labels-idx1", "test-images-idx3", "test-labels-idx1")


def _emnist(split: str) -> DatasetSpec:
    (n_train, n_test), members = _EMNIST[split]
    return DatasetSpec(
        name=f"emnist_{split}",
        npz_name=f"emnist-{split}.npz",
        subdir="emnist",
        files=tuple(
            RemoteFile(f"emnist-{split}-{part}-ubyte.gz", size, "sha256", digest)
            for part, (size, digest) in zip(_PARTS, members, strict=True)
        ),
        mirrors=EMNIST_MIRRORS,
        classes=ClassFile(f"emnist/emnist-{split}-mapping.txt"),
        splits=(Split("train", n_train), Split("test", n_test)),
        transposed=True,
        archive=EMNIST_ARCHIVE,
        # torchvision.datasets.EMNIST(root, split): root/EMNIST/raw/ holding
        # each member's name without .gz
        torchvision="EMNIST",
    )


# -- QMNIST: extended labels; test10k and test50k are rows of its test split -----------

QMNIST_MIRRORS = ("https://raw.githubusercontent.com/facebookresearch/qmnist/master/",)
#: the eight columns of QMNIST's label files (the publishers' README), as field names
QMNIST_COLUMNS = (
    Column("digit", 0, 9),  # the character class
    Column("hsf_series"),  # NIST HSF series (0, 1 or 4 in QMNIST)
    Column("writer_id"),  # NIST writer ID
    Column("digit_index"),  # index of this digit among its writer's
    Column("nist_class", 30, 39),  # NIST class code: the hex of the ASCII digit
    Column("nist_index"),  # global NIST digit index: the row in xnist
    Column("duplicate"),  # xnist only: the row this digit duplicates, else 0
    Column("unused"),
)
# container: the md5s the publishers' README and torchvision pin (and
# ../shared/registry-facts/qmnist-files.tsv). Content of the three label files:
# `gzip -dc FILE | sha256sum` (`xz -dc` for xnist) and `| wc -c`, computed
# 2026-12-03 from the real files in ../shared/qmnist (their md5s are these
# pins); the image files' content is learnt the first time they verify
_QMNIST_FILES = (
    RemoteFile(
        "qmnist-train-images-idx3-ubyte.gz", 9704059, "md5", "ed72d4157d28c017586c42bc6afe6370"
    ),
    RemoteFile(
        "qmnist-train-labels-idx2-int.gz",
        463024,
        "md5",
        "0058f8dd561b90ffdd0f734c6a30e5e4",
        "bb1b6e1ec7b04fd5696f1ed50b5f58f8ef195118edd5c93c81783df9740b8ac5",
        1920012,
    ),
    RemoteFile(
        "qmnist-test-images-idx3-ubyte.gz", 9742279, "md5", "1394631089c404de565df7b7aeaf9412"
    ),
    RemoteFile(
        "qmnist-test-labels-idx2-int.gz",
        526800,
        "md5",
        "5b5b05890a5e13444e108efe57b788aa",
        "92d0ccb8c25f9c6534270fb4be7e1d24a1c6d315edfc8a638bfbd31c70f362dd",
        1920012,
    ),
)
QMNIST = DatasetSpec(
    name="qmnist",
    npz_name="qmnist.npz",
    subdir="qmnist",
    files=_QMNIST_FILES,
    mirrors=QMNIST_MIRRORS,
    classes=DIGITS,
    splits=(Split("train", 60000), Split("test", 60000)),
    columns=QMNIST_COLUMNS,
    # torchvision.datasets.QMNIST(root, what): root/QMNIST/raw/ holding each
    # file's name without .gz/.xz (test10k and test50k read the test files)
    torchvision="QMNIST",
)
#: QMNIST's test choices: the first 10,000 test rows match MNIST's test set
QMNIST_TEST_ROWS = {"test": None, "test10k": (0, 10000), "test50k": (10000, 60000)}
QMNIST_NIST = dataclasses.replace(
    QMNIST,
    name="qmnist_nist",
    npz_name="qmnist-nist.npz",
    files=(
        RemoteFile(
            "xnist-images-idx3-ubyte.xz", 51325860, "md5", "7f124b3b8ab81486c9d8c2749c17f834"
        ),
        RemoteFile(
            "xnist-labels-idx2-int.xz",
            958144,
            "md5",
            "5ed0e788978e45d4a8bd4b7caec3d79d",
            "4aea10456d9cf8fcc7bcd377f8ccbc5b0c02ffe0354a7137204794d6b620aa38",
            12894508,
        ),
    ),
    splits=(Split("nist", 402953),),
)


def _qmnist_test(test: str) -> DatasetSpec:
    train, full = QMNIST.splits
    return dataclasses.replace(
        QMNIST,
        name=f"qmnist_{test}",
        splits=(train, dataclasses.replace(full, rows=QMNIST_TEST_ROWS[test])),
    )


# -- Kuzushiji-49: four npz files ---------------------------------------------------------

K49 = DatasetSpec(
    name="k49",
    npz_name="k49.npz",
    subdir="k49",
    # sizes and md5s: the publishers' files as fetched from codh (git-annex keys
    # of a mirror); the same md5s as other K49 loaders pin
    files=_files(
        "md5",
        ("k49-train-imgs.npz", 66117696, "7ac088b20481cf51dcd01ceaab89d821"),
        ("k49-train-labels.npz", 164485, "44a8e1b893f81e63ff38d73cad420f7a"),
        ("k49-test-imgs.npz", 10971201, "d352e201d846ce6b94f42c990966f374"),
        ("k49-test-labels.npz", 27450, "4da6f7a62e67a832d5eb1bd85c5ee448"),
    ),
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/k49/",),
    classes=ClassFile("k49/k49_classmap.csv", "classmap"),
    splits=(Split("train", 232365), Split("test", 38547)),
    container="npz",
    # torchvision has no Kuzushiji-49 class (only KMNIST): torchvision=None
)


#: every built-in entry, in the order the registry lists them
BUILTIN: tuple[DatasetSpec, ...] = (
    MNIST,
    FASHION_MNIST,
    KMNIST,
    *(_emnist(split) for split in EMNIST_SPLITS),
    QMNIST,
    _qmnist_test("test10k"),
    _qmnist_test("test50k"),
    QMNIST_NIST,
    K49,
)
