"""Demo RAF-DB and FER2013 in their real on-disk formats, for the ECAN paper.

Seven expression classes with the real sets' class imbalance, scaled down.
Every face is the astronaut crop (affrepro.demo.synth) warped by a class
prototype (mouth corners, brows, skin tint), with per-sample jitter of the
prototype, pose, scale, brightness and pixel noise, so the class is visible
but not trivially separable. Deterministic from the seed: files are
byte-identical on rerun (the .csv.gz is written with a fixed mtime).

    python -m affrepro.demo.expressions --config <resolved config> --dataset rafdb|fer2013 --out <path>
"""

from __future__ import annotations

import gzip
import io
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from affrepro import jobs
from affrepro.data import fer2013 as fer_data
from affrepro.data import rafdb as raf_data
from affrepro.demo import synth
from affrepro.files import atomic_path, write_text

# Real class counts (class order of each dataset's own label scheme).
RAFDB_TRAIN_COUNTS = (
    1290,
    281,
    717,
    4772,
    1982,
    705,
    2524,
)  # Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral
RAFDB_TEST_COUNTS = (329, 74, 160, 1185, 478, 162, 680)
FER2013_TRAIN_COUNTS = (
    3995,
    436,
    4097,
    7215,
    4830,
    3171,
    4965,
)  # Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral (real Training)

# Prototype per expression: (smile, brow, tint, mouth) in units of the scales below; `mouth`
# opens a dark mouth and lengthens the jaw, a coarse cue that survives the strong augmentations.
PROTOTYPES = {
    "Surprise": (0.0, 1.6, 0.0, 1.6),
    "Fear": (-0.6, 1.0, -0.6, 0.8),
    "Disgust": (-1.0, -0.6, 0.6, -0.4),
    "Happiness": (1.6, 0.2, 0.3, 0.6),
    "Sadness": (-1.6, 0.4, -0.3, -0.8),
    "Anger": (-0.4, -1.6, 0.8, 0.0),
    "Neutral": (0.0, 0.0, 0.0, -0.2),
}
FER_TO_PROTOTYPE = {
    "Angry": "Anger",
    "Disgust": "Disgust",
    "Fear": "Fear",
    "Happy": "Happiness",
    "Sad": "Sadness",
    "Surprise": "Surprise",
    "Neutral": "Neutral",
}
SMILE_SCALE, BROW_SCALE, TINT_SCALE, MOUTH_SCALE = 0.08, 0.05, 0.1, 0.5


def class_counts(real_counts, total: int, minimum: int) -> list[int]:
    """Scale real class counts to `total` (largest remainder), at least `minimum` per class."""
    real = np.asarray(real_counts, dtype=np.float64)
    if minimum * len(real) > total:
        raise ValueError(f"{total} samples cannot give each of {len(real)} classes {minimum}")
    spare = total - minimum * len(real)
    share = real / real.sum() * spare
    counts = np.floor(share).astype(int)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: spare - counts.sum()]] += 1
    return (counts + minimum).tolist()


@lru_cache(maxsize=4)
def _base(size: int) -> np.ndarray:
    return synth.face_patch(size)


def open_mouth(patch: np.ndarray, amount: float) -> np.ndarray:
    """Lengthen the jaw and darken an ellipse at the mouth by `amount` (negative: a closed, shorter mouth)."""
    size = patch.shape[0]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    lower = np.clip((ys - 0.55) / 0.45, 0, 1)
    map_y = ((ys - 0.12 * amount * lower * (1 - lower) * 4) * size).astype(np.float32)
    out = cv2.remap(
        patch, (xs * size).astype(np.float32), map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    ellipse = np.exp(-(((ys - 0.64) / 0.05) ** 2) - (((xs - 0.5) / 0.11) ** 2))
    shade = 1.0 - np.clip(amount, 0, None) * ellipse
    return (out.astype(np.float32) * shade[..., None]).clip(0, 255).astype(np.uint8)


def render_face(rng: np.random.Generator, prototype: tuple[float, ...], size: int, params: dict) -> np.ndarray:
    """One RGB face (size, size, 3): the class prototype plus per-sample jitter."""
    smile, brow, tint, mouth = np.asarray(prototype) + params["latent_noise"] * rng.standard_normal(4)
    big = int(round(size * 1.2))
    patch = synth.expression_warp(_base(big), smile=SMILE_SCALE * smile, brow=BROW_SCALE * brow)
    patch = open_mouth(patch, MOUTH_SCALE * mouth)
    patch = synth.tint(patch, TINT_SCALE * tint)
    angle = rng.uniform(-params["max_rotation"], params["max_rotation"])
    scale = rng.uniform(1 - params["max_scale"], 1 + params["max_scale"])
    shift = rng.uniform(-params["max_shift"], params["max_shift"], size=2) * size
    matrix = cv2.getRotationMatrix2D((big / 2, big / 2), angle, scale)
    matrix[:, 2] += shift - (big - size) / 2
    face = cv2.warpAffine(patch, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    face = face.astype(np.float32) * rng.uniform(1 - params["brightness"], 1 + params["brightness"])
    face += params["noise_std"] * rng.standard_normal(face.shape)
    return face.clip(0, 255).astype(np.uint8)


def _split_labels(rng, counts) -> np.ndarray:
    labels = np.repeat(np.arange(len(counts)), counts)
    return labels[rng.permutation(len(labels))]


def write_rafdb(root: str | Path, params: dict) -> None:
    """RAF-DB basic layout: Image/aligned/<name>_aligned.jpg (100x100 RGB) and EmoLabel/list_patition_label.txt (labels 1-7)."""
    root = Path(root)
    rng = np.random.default_rng(params["seed"])
    lines = []
    for split, real, total in (
        ("train", RAFDB_TRAIN_COUNTS, params["n_train"]),
        ("test", RAFDB_TEST_COUNTS, params["n_test"]),
    ):
        labels = _split_labels(rng, class_counts(real, total, params["min_per_class"]))
        for index, label in enumerate(labels, start=1):
            name = f"{split}_{index:05d}.jpg"
            face = render_face(rng, PROTOTYPES[raf_data.CLASSES[label]], 100, params)
            ok, encoded = cv2.imencode(
                ".jpg", cv2.cvtColor(face, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, params["jpeg_quality"]]
            )
            if not ok:
                raise RuntimeError(f"JPEG encoding failed for {name}")
            path = raf_data.image_path(root, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                tmp.write_bytes(encoded.tobytes())
            lines.append(f"{name} {label + 1}")
    write_text(root / raf_data.LABEL_FILE, "\n".join(lines) + "\n")


def write_fer2013(path: str | Path, params: dict) -> None:
    """fer2013.csv(.gz): `emotion,pixels,Usage`, 48x48 grey, Training / PublicTest / PrivateTest."""
    path = Path(path)
    rng = np.random.default_rng(params["seed"])
    out = io.StringIO()
    out.write("emotion,pixels,Usage\n")
    for usage, total in (
        ("Training", params["n_train"]),
        ("PublicTest", params["n_public_test"]),
        ("PrivateTest", params["n_private_test"]),
    ):
        # The real PublicTest/PrivateTest follow Training's proportions closely; we use Training's for all three.
        labels = _split_labels(rng, class_counts(FER2013_TRAIN_COUNTS, total, params["min_per_class"]))
        for label in labels:
            face = render_face(rng, PROTOTYPES[FER_TO_PROTOTYPE[fer_data.CLASSES[label]]], 48, params)
            grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
            out.write(f"{label},{' '.join(map(str, grey.ravel().tolist()))},{usage}\n")
    data = out.getvalue().encode()
    if path.name.endswith(".gz"):
        buffer = io.BytesIO()
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=buffer, mtime=0
        ) as handle:  # fixed mtime: byte-identical reruns
            handle.write(data)
        data = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def main(argv: list[str] | None = None) -> None:
    from affrepro.ecan.settings import DemoData  # here: the paper's plan imports this module

    config, args = jobs.parse(__doc__, "ecan", argv, dataset=jobs.one_of(["rafdb", "fer2013"]), out=jobs.PATH)
    params = DemoData.from_config(config, dataset=args.dataset).demo
    (write_rafdb if args.dataset == "rafdb" else write_fer2013)(args.out, params)


if __name__ == "__main__":
    main()
