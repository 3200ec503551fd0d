"""RAF-DB (basic) loader.

<root>/EmoLabel/list_patition_label.txt holds `train_00001.jpg 5` lines
(labels 1-7 = Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral,
mapped here to 0-6); images are <root>/Image/aligned/<stem>_aligned.jpg,
100x100 RGB. The split is the name's prefix (train_ / test_). A missing or
malformed file raises DatasetError naming it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from affrepro.data import DatasetError

CLASSES = ("Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral")
LABEL_FILE = Path("EmoLabel") / "list_patition_label.txt"  # sic: the official file name
IMAGE_DIR = Path("Image") / "aligned"
SPLITS = ("train", "test")
SIZE = 100  # aligned images are 100x100


def read_labels(root: Path) -> list[tuple[str, int]]:
    path = root / LABEL_FILE
    if not path.is_file():
        raise DatasetError(
            f"{path}: RAF-DB label file not found; datasets.rafdb.root must be the RAF-DB basic folder (with EmoLabel/ and Image/aligned/)"
        )
    entries, seen = [], {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise DatasetError(f"{path}:{number}: expected '<name>.jpg <label>', got {line!r}")
        label = int(parts[1])
        if not 1 <= label <= 7:
            raise DatasetError(f"{path}:{number}: label {label} is outside 1-7 (Surprise..Neutral); fix the label file")
        if not parts[0].startswith(("train_", "test_")):
            raise DatasetError(f"{path}:{number}: image name {parts[0]!r} starts with neither train_ nor test_")
        if parts[0] in seen:
            raise DatasetError(
                f"{path}:{number}: {parts[0]} is listed again (first on line {seen[parts[0]]}); keep one line per image"
            )
        seen[parts[0]] = number
        entries.append((parts[0], label - 1))
    return entries


def image_path(root: Path, name: str) -> Path:
    return root / IMAGE_DIR / f"{Path(name).stem}_aligned.jpg"


def read_image(path: Path) -> np.ndarray:
    """One aligned image as RGB uint8 (100, 100, 3); DatasetError naming the file if it is missing, undecodable or another size."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(
            f"{path}: image listed in {LABEL_FILE} is missing or unreadable; restore it or remove its line"
        )
    if image.shape[:2] != (SIZE, SIZE):
        raise DatasetError(
            f"{path}: {image.shape[1]}x{image.shape[0]} pixels; RAF-DB aligned images are {SIZE}x{SIZE} (use Image/aligned/, not Image/original/)"
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read(root: str | Path, on_unreadable: str = "fail") -> tuple[dict[str, dict[str, np.ndarray]], dict[str, str]]:
    """(`load`'s splits, {image name: why} of the images left out); on_unreadable `skip` leaves out unreadable images, `fail` stops."""
    root = Path(root)
    out, skipped = {}, {}
    entries = read_labels(root)
    for split in SPLITS:
        chosen, images = [], []
        for name, label in [(n, y) for n, y in entries if n.startswith(split + "_")]:
            try:
                images.append(read_image(image_path(root, name)))
            except DatasetError as error:
                if on_unreadable == "fail":
                    raise
                skipped[name] = str(error)
                continue
            chosen.append((name, label))
        out[split] = {
            "images": np.stack(images) if images else np.zeros((0, SIZE, SIZE, 3), np.uint8),
            "labels": np.asarray([y for _, y in chosen], dtype=np.int64),
            "names": np.asarray([n for n, _ in chosen]),
        }
    return out, skipped


def load(root: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """{"train"|"test": {"images": uint8 (N, 100, 100, 3) RGB, "labels": int64 (N,), "names": (N,) str}}; any unreadable image stops it."""
    return read(root, "fail")[0]
