"""``idxmnist preview``: look at the digits, not only at their shapes.

The sample is deterministic: the first ``ceil(n / classes)`` images of each
class, in label order, so ``--n 100`` gives ten rows of ten, one row per
digit. Two renderings:

* text (always, when there is no ``--out``; in a pipe too): Unicode
  half-block characters, two pixel rows per text line, images halved to
  14 x 14, each under its label, wrapped to the terminal width;
* PNG (``--out FILE``, needs Pillow: ``pip install 'idxmnist[preview]'``): a
  grid of the images upscaled 2x, dark ink on white, each labelled beneath.

``--reviewed`` (MNIST) shows instead the test images whose labels people
judged wrong (:func:`reviewed_errors`), each captioned with its index, the
given and the guessed label, and the votes (:func:`review_captions`).

>>> from idxmnist.cli.preview import select_samples, render_text
>>> import numpy as np
>>> labels = np.array([3, 1, 1, 3, 0], dtype=np.uint8)
>>> [row.tolist() for row in select_samples(labels, 6)]
[[4], [1, 2], [0, 3]]
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import describe

if TYPE_CHECKING:
    from PIL import ImageFont  # Pillow: imported only when a PNG is written

__all__ = [
    "select_samples",
    "reviewed_errors",
    "review_captions",
    "render_text",
    "render_png",
    "pillow_available",
    "PILLOW_HINT",
    "REVIEW_LEGEND",
]

PILLOW_HINT = "pip install 'idxmnist[preview]'"
#: what a review caption says, printed above the images (two lines)
REVIEW_LEGEND = (
    "MNIST test labels people judged wrong (Northcutt et al., NeurIPS 2021)\n"
    "index: given->guessed label; votes for given/guessed/neither (of 5)"
)

_HALF_BLOCKS = (" ", "\u2584", "\u2580", "\u2588")  # index: 2 * top + bottom
_THRESHOLD = 96  # of 255: a halved pixel at least this bright is ink


def select_samples(labels: np.ndarray, n: int) -> list[np.ndarray]:
    """Pick about ``n`` samples, the same for the same labels: one row per class.

    Returns, for each class present in ``labels`` (in increasing order), the
    indices of its first ``ceil(n / number_of_classes)`` samples; rows are
    cut so that at most ``n`` indices are returned in all.

    >>> [r.tolist() for r in select_samples(np.array([1, 0, 1, 0, 1]), 4)]
    [[1, 3], [0, 2]]
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    classes = np.unique(labels)
    if classes.size == 0:
        return []
    per_class = math.ceil(n / classes.size)
    rows, left = [], n
    for c in classes:
        if left <= 0:
            break
        picked = np.flatnonzero(labels == c)[: min(per_class, left)]
        rows.append(picked)
        left -= picked.size
    return rows


def reviewed_errors(review: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` rows of the label review (``datasets.review``) judged label errors.

    >>> from idxmnist.datasets.review import load_review
    >>> reviewed_errors(load_review(), 3)["index"].tolist()
    [947, 1621, 1901]
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    errors: np.ndarray = review[review["label_error"] == 1][:n]
    return errors


def review_captions(rows: np.ndarray) -> dict[int, tuple[str, str]]:
    """Each review row's caption, by test index: ``("947: 8->9", "votes 0/5/0")``.

    >>> from idxmnist.datasets.review import load_review
    >>> review_captions(reviewed_errors(load_review(), 1))
    {947: ('947: 8->9', 'votes 0/5/0')}
    """
    return {
        int(r["index"]): (
            f"{r['index']}: {r['given']}->{r['guessed']}",
            f"votes {r['votes_given']}/{r['votes_guessed']}/{r['votes_neither']}",
        )
        for r in rows
    }


def _halve(image: np.ndarray) -> np.ndarray:
    """Mean of each 2 x 2 block (odd sizes padded with black)."""
    h, w = image.shape
    padded = np.zeros((h + h % 2, w + w % 2), dtype=np.float32)
    padded[:h, :w] = image
    halved: np.ndarray = padded.reshape(h // 2 + h % 2, 2, w // 2 + w % 2, 2).mean(axis=(1, 3))
    return halved


def _ink(image: np.ndarray) -> np.ndarray:
    """The image halved, as a boolean ink mask with an even number of rows."""
    ink = _halve(np.asarray(image, dtype=np.float32)) >= _THRESHOLD
    if ink.shape[0] % 2:
        ink = np.vstack([ink, np.zeros((1, ink.shape[1]), dtype=bool)])
    return ink


def _glyph_lines(ink: np.ndarray) -> list[str]:
    """A boolean mask as half-block text, two mask rows per line."""
    codes = 2 * ink[0::2].astype(np.intp) + ink[1::2]
    return ["".join(_HALF_BLOCKS[c] for c in line) for line in codes]


def _common_box(masks: list[np.ndarray]) -> tuple[slice, slice]:
    """The smallest box (whole line pairs) holding the ink of every mask."""
    union = np.logical_or.reduce(masks)
    rows, cols = np.flatnonzero(union.any(axis=1)), np.flatnonzero(union.any(axis=0))
    if rows.size == 0:
        return slice(0, 2), slice(0, 1)
    top, bottom = rows[0] - rows[0] % 2, rows[-1] + 1 + (rows[-1] + 1) % 2
    return slice(top, bottom), slice(cols[0], cols[-1] + 1)


def _pack(rows: list[np.ndarray], per_line: int) -> list[list[int]]:
    """Lay rows out on lines of ``per_line`` blocks.

    A row that fits in what is left of the current line goes there; any
    other starts a new line and wraps if it is longer than a line.
    """
    lines: list[list[int]] = []
    for row in rows:
        ids = [int(i) for i in row]
        if lines and len(lines[-1]) + len(ids) <= per_line:
            lines[-1].extend(ids)
            continue
        lines.extend(ids[start : start + per_line] for start in range(0, len(ids), per_line))
    return lines


def render_text(
    images: np.ndarray,
    labels: np.ndarray,
    rows: list[np.ndarray],
    *,
    width: int = 80,
    names: Sequence[str] | Mapping[int, str] | None = None,
    captions: Mapping[int, Sequence[str]] | None = None,
) -> str:
    """The selected images as text, one block per image with its label above.

    Images are halved and drawn with half-block characters (two pixel rows
    per line); the margin that is blank in every selected image is cut off.
    ``rows`` is what :func:`select_samples` returns; a row goes on the current
    line of blocks if it fits there, else starts a new one, wrapping at
    ``width`` columns. ``names`` maps a label to a class name shown next to it.
    ``captions`` maps an image's index to the lines shown above it instead
    of its label (the blocks widen to fit them).

    >>> x = np.zeros((1, 4, 4), np.uint8); x[0, :2, :] = 255
    >>> print(render_text(x, np.array([7]), [np.array([0])]))
    7
    ▀▀
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be 3-D (count, height, width), got shape {images.shape}")
    inks = {int(i): _ink(images[i]) for row in rows for i in row}
    if not inks:
        return ""
    box = _common_box(list(inks.values()))
    ink_cell = max(1, box[1].stop - box[1].start)
    cell = ink_cell
    if captions:
        cell = max([cell, *(_width(line) for c in captions.values() for line in c)])
    left = " " * ((cell - ink_cell) // 2)
    per_line = max(1, (width + 1) // (cell + 1))
    out: list[str] = []
    for chunk in _pack(rows, per_line):
        heads, blocks = [], []
        for i in chunk:
            if captions is not None and i in captions:
                lines = list(captions[i])
            else:
                label = int(labels[i])
                head = str(label)
                name = _name_of(names, label)
                if name is not None:
                    head = f"{label} {name}"
                lines = [head]
            heads.append([_fit(line, cell) for line in lines])
            glyphs = _glyph_lines(inks[i][box])
            blocks.append([_fit(left + g, cell) for g in glyphs] if cell > ink_cell else glyphs)
        depth = max(len(h) for h in heads)
        for k in range(depth):
            out.append(" ".join(h[k] if k < len(h) else " " * cell for h in heads).rstrip())
        out.extend(" ".join(parts).rstrip() for parts in zip(*blocks, strict=True))
    return "\n".join(out)


def _name_of(names: Sequence[str] | Mapping[int, str] | None, label: int) -> str | None:
    if isinstance(names, Mapping):
        return names.get(label)
    if names is not None and 0 <= label < len(names):
        return names[label]
    return None


def _columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _width(text: str) -> int:
    return sum(_columns(char) for char in text)


def _fit(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (kana and kanji take two)."""
    out, used = [], 0
    for char in text:
        if used + _columns(char) > width:
            break
        out.append(char)
        used += _columns(char)
    return "".join(out) + " " * (width - used)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    from PIL import ImageFont  # Pillow: imported only when a PNG is written

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def render_png(
    images: np.ndarray,
    labels: np.ndarray,
    rows: list[np.ndarray],
    out: str | os.PathLike[str],
    *,
    scale: int = 2,
    captions: Mapping[int, Sequence[str]] | None = None,
) -> Path:
    """Write the selected images as a picture, one row per class; return the path.

    Each image is upscaled ``scale`` times (nearest neighbour: the pixels stay
    crisp), drawn dark on white, with its label beneath (or, for an index in
    ``captions``, those lines; the columns widen to fit them). The format
    follows ``out``'s suffix (:func:`image_format`: ``.png``, ``.jpg``, ...).
    Needs Pillow.

    >>> render_png(x_train, y_train, select_samples(y_train, 100), "grid.png")  # doctest: +SKIP
    PosixPath('grid.png')
    """
    from PIL import Image, ImageDraw  # Pillow: imported only when a PNG is written

    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be 3-D (count, height, width), got shape {images.shape}")
    h, w = images.shape[1] * scale, images.shape[2] * scale
    pad, line = 4, 14
    font = _font(11)
    texts = {
        int(i): list(captions[int(i)]) if captions and int(i) in captions else [str(int(labels[i]))]
        for row in rows
        for i in row
    }
    band = line * max((len(t) for t in texts.values()), default=1)
    cw = w  # a column's width: the image's, or the widest caption's
    if captions:
        measure = ImageDraw.Draw(Image.new("L", (1, 1)))
        widest = max(measure.textlength(t, font=font) for ts in texts.values() for t in ts)
        cw = max(w, math.ceil(widest) + 6)
    ncols = max((len(r) for r in rows), default=0)
    size = (pad + ncols * (cw + pad), pad + len(rows) * (h + band + pad))
    canvas = Image.new("L", (max(size[0], 1), max(size[1], 1)), 255)
    draw = ImageDraw.Draw(canvas)
    for r, row in enumerate(rows):
        top = pad + r * (h + band + pad)
        for c, i in enumerate(row):
            left = pad + c * (cw + pad)
            digit = Image.fromarray(255 - np.ascontiguousarray(images[i], dtype=np.uint8), "L")
            upscaled = digit.resize((w, h), Image.Resampling.NEAREST)
            canvas.paste(upscaled, (left + (cw - w) // 2, top))
            for k, text in enumerate(texts[int(i)]):
                tw = draw.textlength(text, font=font)
                draw.text((left + (cw - tw) / 2, top + h + 1 + k * line), text, fill=80, font=font)
    out = Path(out)
    fmt = image_format(out)
    canvas.save(out, format=fmt, **({"optimize": True} if fmt in ("PNG", "JPEG") else {}))
    return out


def image_format(out: str | os.PathLike[str]) -> str:
    """The picture format ``out``'s suffix names (``PNG`` for ``grid.png``), as Pillow calls it.

    ValueError for a suffix Pillow cannot write. Needs Pillow.
    """
    from PIL import Image  # Pillow: imported only when a picture is written

    suffix = Path(out).suffix.lower()
    fmt = Image.registered_extensions().get(suffix)
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(
            f"{describe(out)}: cannot write a {suffix or 'suffix-less'} picture; "
            "name it .png (or .jpg, .webp, .gif, .bmp, .tiff)"
        )
    return fmt


def pillow_available() -> bool:
    """True when Pillow (the ``preview`` extra, needed by :func:`render_png`) is installed."""
    try:
        import PIL.Image  # noqa: F401
        import PIL.ImageDraw  # noqa: F401
    except ImportError:
        return False
    return True
