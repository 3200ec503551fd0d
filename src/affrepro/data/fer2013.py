"""FER2013 loader: fer2013.csv or fer2013.csv.gz (`emotion,pixels,Usage`).

Emotion 0-6 = Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral; pixels are
2304 space-separated grey values (48x48); Usage is Training, PublicTest or
PrivateTest. The pixel text is parsed in one vectorised pass (a few seconds
for the full 35,887 rows). A missing or malformed file raises DatasetError
naming it (and the line, where there is one).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from affrepro.data import DatasetError

CLASSES = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
USAGES = ("Training", "PublicTest", "PrivateTest")
SIZE = 48
HEADER = b"emotion,pixels,Usage"


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DatasetError(
            f"{path}: FER2013 file not found; set datasets.fer2013.path to fer2013.csv or fer2013.csv.gz (or null for the demo)"
        )
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:  # a truncated or corrupt download
        raise DatasetError(
            f"{path}: not a complete gzip file ({exc}); download it again or give the uncompressed fer2013.csv"
        ) from exc


def usage_counts(path: str | Path) -> dict[str, int]:
    """Rows per Usage (Training, PublicTest, PrivateTest), without parsing the pixels: the start-up check of the splits."""
    path = Path(path)
    text = _read_bytes(path)
    header = text[: text.find(b"\n")].strip().replace(b" ", b"").replace(b'"', b"")
    if header != HEADER:
        raise DatasetError(
            f"{path}: header is {header[:60].decode(errors='replace')!r}, expected 'emotion,pixels,Usage'; is this the Kaggle fer2013.csv?"
        )
    return {usage: text.count(b"," + usage.encode()) + text.count(b',"' + usage.encode() + b'"') for usage in USAGES}


def parse_pixels(text: bytes, n_rows: int, path: Path) -> np.ndarray:
    """Space-separated decimal values (rows joined by spaces) -> int32 (n_rows, 48, 48); the range is checked per row by `read`."""
    chars = np.frombuffer(text, dtype=np.uint8)
    if not np.all(((chars >= 48) & (chars <= 57)) | (chars == 32)):
        raise DatasetError(
            f"{path}: the pixels column holds characters other than digits and spaces; re-export the file"
        )
    # Text-mode fromstring is numpy's fastest number parser (C loop); the check above rules out the inputs it would misread.
    values = np.fromstring(text, dtype=np.int32, sep=" ")
    if values.size != n_rows * SIZE * SIZE:
        raise DatasetError(f"{path}: {values.size} pixel values for {n_rows} rows, expected {SIZE * SIZE} per row")
    return values.reshape(n_rows, SIZE, SIZE)


def parse_row(line: bytes, path: Path, number: int) -> tuple[int, bytes, str]:
    """(emotion, pixel text, usage) of one data line; DatasetError naming the file and line when it is malformed.
    A field may be in double quotes (a CSV writer that quotes every field)."""
    parts = [part.strip().strip(b'"') for part in line.strip().split(b",")]
    if len(parts) != 3:
        raise DatasetError(
            f"{path}:{number}: expected 3 comma-separated fields (emotion,pixels,Usage), got {len(parts)}"
        )
    emotion, pixel_text, usage = parts
    if not emotion.isdigit() or int(emotion) > 6:
        raise DatasetError(f"{path}:{number}: emotion {emotion.decode(errors='replace')!r} is not in 0-6")
    usage = usage.decode(errors="replace")
    if usage not in USAGES:
        raise DatasetError(f"{path}:{number}: unknown Usage {usage!r}; expected one of {', '.join(USAGES)}")
    pixel_text = pixel_text.strip()
    if pixel_text.count(b" ") != SIZE * SIZE - 1 or b"  " in pixel_text or not pixel_text.replace(b" ", b"").isdigit():
        tokens = pixel_text.split()
        bad = next((t for t in tokens if not t.isdigit()), None)
        why = (
            f"pixel value {bad.decode(errors='replace')!r} is not a whole number 0-255"
            if bad is not None
            else f"{len(tokens)} pixel values, expected {SIZE * SIZE} (48x48)"
        )
        raise DatasetError(f"{path}:{number}: {why}; the pixels are decimal values 0-255 separated by single spaces")
    return int(emotion), pixel_text, usage


def load(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """{usage: {"images": uint8 (N, 48, 48), "labels": int64 (N,)}} for Training, PublicTest, PrivateTest; any malformed row stops it."""
    return read(path, "fail")[0]


def read(path: str | Path, on_unreadable: str = "fail") -> tuple[dict[str, dict[str, np.ndarray]], dict[str, str]]:
    """(`load`'s splits, {"line N": why} of the rows left out); on_unreadable `skip` leaves out malformed rows, `fail` stops."""
    path = Path(path)
    lines = _read_bytes(path).splitlines()
    if not lines or lines[0].strip().replace(b" ", b"").replace(b'"', b"") != HEADER:
        found = lines[0][:60].decode(errors="replace") if lines else "<empty file>"
        raise DatasetError(
            f"{path}: header is {found!r}, expected 'emotion,pixels,Usage'; is this the Kaggle fer2013.csv?"
        )
    labels, usages, pixels, numbers, skipped = [], [], [], [], {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            emotion, pixel_text, usage = parse_row(line, path, number)
        except DatasetError as error:
            if on_unreadable == "fail":
                raise
            skipped[f"line {number}"] = str(error)
            continue
        labels.append(emotion)
        usages.append(usage)
        pixels.append(pixel_text)
        numbers.append(number)
    values = parse_pixels(b" ".join(pixels), len(pixels), path)
    brightest = values.reshape(len(values), -1).max(1, initial=0)
    for row in np.flatnonzero(brightest > 255):
        why = f"{path}:{numbers[row]}: pixel value {brightest[row]} exceeds 255; the pixels are grey values 0-255"
        if on_unreadable == "fail":
            raise DatasetError(why)
        skipped[f"line {numbers[row]}"] = why
    kept = brightest <= 255
    images = values[kept].astype(np.uint8)
    labels = np.asarray(labels, dtype=np.int64)[kept]
    usages = np.asarray(usages)[kept]
    return {u: {"images": images[usages == u], "labels": labels[usages == u]} for u in USAGES}, skipped
