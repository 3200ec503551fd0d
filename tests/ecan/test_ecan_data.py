"""ECAN data: FER2013 / RAF-DB loaders, demo generators, Table 1 augmentation levels."""

from __future__ import annotations

import gzip
from pathlib import Path

import cv2
import helpers
import numpy as np
import pytest
import torch
from conftest import SHARED

from affrepro.data import DatasetError, fer2013, rafdb
from affrepro.demo import expressions
from affrepro.ecan import augment as aug
from affrepro.features import resnet

# Real FER2013 Training counts (Angry .. Neutral), computed once from the real file.
FER2013_TRAINING_COUNTS = [3995, 436, 4097, 7215, 4830, 3171, 4965]


DEMO_RAF = dict(
    seed=3,
    n_train=70,
    n_test=35,
    min_per_class=3,
    jpeg_quality=95,
    latent_noise=0.4,
    max_rotation=10.0,
    max_scale=0.08,
    max_shift=0.06,
    brightness=0.2,
    noise_std=6.0,
)
DEMO_FER = dict(
    seed=4,
    n_train=70,
    n_public_test=28,
    n_private_test=28,
    min_per_class=2,
    latent_noise=0.4,
    max_rotation=10.0,
    max_scale=0.08,
    max_shift=0.06,
    brightness=0.2,
    noise_std=6.0,
)


# ---------------------------------------------------------------- FER2013


def test_fer2013_real_file_rows_and_training_counts():
    path = SHARED / "data" / "fer2013" / "fer2013.csv.gz"
    if not path.is_file():
        pytest.skip(f"real FER2013 not found at {path}")
    data = fer2013.load(path)
    assert {k: len(v["labels"]) for k, v in data.items()} == {
        "Training": 28709,
        "PublicTest": 3589,
        "PrivateTest": 3589,
    }
    assert np.bincount(data["Training"]["labels"], minlength=7).tolist() == FER2013_TRAINING_COUNTS
    assert data["Training"]["images"].shape == (28709, 48, 48) and data["Training"]["images"].dtype == np.uint8
    assert data["Training"]["images"][0, 0, :5].tolist() == [255, 255, 119, 77, 60]  # first row of the file


def _fer_csv(tmp_path, rows, header="emotion,pixels,Usage"):
    path = tmp_path / "fer2013.csv"
    path.write_text(header + "\n" + "".join(f"{e},{p},{u}\n" for e, p, u in rows))
    return path


def test_fer2013_small_file_and_errors(tmp_path):
    pixels = " ".join(str(v % 256) for v in range(2304))
    data = fer2013.load(_fer_csv(tmp_path, [(3, pixels, "Training"), (6, pixels, "PrivateTest")]))
    assert data["Training"]["labels"].tolist() == [3] and data["PublicTest"]["images"].shape == (0, 48, 48)
    assert data["PrivateTest"]["images"][0].ravel()[:300].tolist() == list(range(256)) + list(range(44))
    with pytest.raises(DatasetError, match="missing.csv: FER2013 file not found"):
        fer2013.load(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match="fer2013.csv: header"):
        fer2013.load(_fer_csv(tmp_path, [(3, pixels, "Training")], header="label,pixels,split"))
    with pytest.raises(DatasetError, match="fer2013.csv:2: 2305 pixel values, expected 2304"):
        fer2013.load(_fer_csv(tmp_path, [(3, pixels + " 7", "Training")]))
    with pytest.raises(DatasetError, match="fer2013.csv:2: unknown Usage 'Validation'"):
        fer2013.load(_fer_csv(tmp_path, [(3, pixels, "Validation")]))
    with pytest.raises(DatasetError, match="fer2013.csv:3: emotion '7' is not in 0-6"):
        fer2013.load(_fer_csv(tmp_path, [(3, pixels, "Training"), (7, pixels, "Training")]))


# ---------------------------------------------------------------- RAF-DB


def _raf_tree(root: Path, entries):
    (root / "EmoLabel").mkdir(parents=True)
    (root / "Image" / "aligned").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("".join(f"{n} {y}\n" for n, y in entries))
    for i, (name, _) in enumerate(entries):
        image = np.full((100, 100, 3), 10 * i, np.uint8)
        image[..., 0] = 200  # red channel, to check BGR -> RGB
        cv2.imwrite(
            str(root / "Image" / "aligned" / f"{Path(name).stem}_aligned.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        )


def test_rafdb_loader_label_mapping_and_errors(tmp_path):
    entries = [("train_00001.jpg", 5), ("train_00002.jpg", 1), ("test_0001.jpg", 7), ("train_00003.jpg", 4)]
    _raf_tree(tmp_path / "raf", entries)
    data = rafdb.load(tmp_path / "raf")
    assert data["train"]["labels"].tolist() == [4, 0, 3]  # 1-7 -> 0-6
    assert data["test"]["labels"].tolist() == [6]
    assert data["train"]["images"].shape == (3, 100, 100, 3)
    assert abs(int(data["train"]["images"][0, 50, 50, 0]) - 200) < 4
    assert rafdb.CLASSES[data["train"]["labels"][0]] == "Sadness"
    (tmp_path / "raf" / "Image" / "aligned" / "train_00002_aligned.jpg").unlink()
    with pytest.raises(DatasetError, match="train_00002_aligned.jpg: image listed in"):
        rafdb.load(tmp_path / "raf")
    _raf_tree(tmp_path / "bad", [("train_00001.jpg", 8)])
    with pytest.raises(DatasetError, match="list_patition_label.txt:1: label 8 is outside 1-7"):
        rafdb.load(tmp_path / "bad")
    with pytest.raises(DatasetError, match="nowhere/EmoLabel/list_patition_label.txt: RAF-DB label file not found"):
        rafdb.load(tmp_path / "nowhere")


# ---------------------------------------------------------------- demo generators


def test_class_counts_keep_proportions_and_minimum():
    counts = expressions.class_counts(expressions.RAFDB_TRAIN_COUNTS, 600, 8)
    assert sum(counts) == 600 and min(counts) >= 8
    assert np.argmax(counts) == 3 and np.argmin(counts) == 1  # Happiness most, Fear least, as in RAF-DB
    assert list(expressions.FER2013_TRAIN_COUNTS) == FER2013_TRAINING_COUNTS


def test_demo_rafdb_deterministic_and_proportions(tmp_path):
    expressions.write_rafdb(tmp_path / "a", DEMO_RAF)
    expressions.write_rafdb(tmp_path / "b", DEMO_RAF)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 70 + 35 + 1
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    data = rafdb.load(tmp_path / "a")
    assert np.bincount(data["train"]["labels"], minlength=7).tolist() == expressions.class_counts(
        expressions.RAFDB_TRAIN_COUNTS, 70, 3
    )
    assert np.bincount(data["test"]["labels"], minlength=7).tolist() == expressions.class_counts(
        expressions.RAFDB_TEST_COUNTS, 35, 3
    )
    assert data["train"]["images"].shape[1:] == (100, 100, 3)


def test_demo_fer2013_deterministic_gz_and_proportions(tmp_path):
    expressions.write_fer2013(tmp_path / "a" / "fer2013.csv.gz", DEMO_FER)
    expressions.write_fer2013(tmp_path / "b" / "fer2013.csv.gz", DEMO_FER)
    raw = (tmp_path / "a" / "fer2013.csv.gz").read_bytes()
    assert raw == (tmp_path / "b" / "fer2013.csv.gz").read_bytes()
    assert gzip.decompress(raw).startswith(b"emotion,pixels,Usage\n")
    data = fer2013.load(tmp_path / "a" / "fer2013.csv.gz")
    assert {k: len(v["labels"]) for k, v in data.items()} == {"Training": 70, "PublicTest": 28, "PrivateTest": 28}
    assert np.bincount(data["Training"]["labels"], minlength=7).tolist() == expressions.class_counts(
        FER2013_TRAINING_COUNTS, 70, 2
    )


def test_demo_classes_differ_visibly():
    rng = np.random.default_rng(0)
    params = {
        **DEMO_RAF,
        "latent_noise": 0.0,
        "max_rotation": 0.0,
        "max_scale": 0.0,
        "max_shift": 0.0,
        "brightness": 0.0,
        "noise_std": 0.0,
    }
    faces = {
        name: expressions.render_face(rng, proto, 100, params).astype(float)
        for name, proto in expressions.PROTOTYPES.items()
    }
    assert np.abs(faces["Surprise"] - faces["Neutral"]).mean() > 2.0
    assert np.abs(faces["Happiness"] - faces["Sadness"]).mean() > 2.0


# ---------------------------------------------------------------- Table 1 augmentation

PAPER_TABLE1 = {  # rafdb none/weak/strong, fer2013 none/weak/strong
    "RandomCrop": [0, 0, 1, 0, 1, 1],
    "RandomColorJitter": [0, 0, 1, 0, 0, 1],
    "RandomHorizontalFlip": [0, 1, 1, 0, 1, 1],
    "RandomRotation": [0, 0, 1, 0, 1, 1],
    "RandomErasing": [0, 1, 1, 0, 1, 1],
    "RandomGrayscale": [0, 1, 1, 0, 1, 1],
    "RandomGaussianBlur": [0, 0, 1, 0, 0, 0],
    "RandomAffine": [0, 0, 0, 0, 0, 1],
    "FiveCrop": [0, 0, 0, 0, 0, 1],
}


def test_table1_rows_match_the_paper():
    rows = aug.table1_rows(helpers.repo_config()["ecan"]["augment"])
    assert [r["op"] for r in rows] == list(PAPER_TABLE1)
    for row in rows:
        got = [int(row[f"{d}_{lvl}"]) for d in aug.DATASETS for lvl in aug.LEVELS]
        assert got == PAPER_TABLE1[row["op"]], row["op"]


def _image(size=48):
    return aug.prepare(np.random.default_rng(0).integers(0, 256, (1, 60, 60, 3), dtype=np.uint8), size)[0]


def _normalised(x):
    return (x.float() / 255 - torch.tensor(aug.MEAN).view(3, 1, 1)) / torch.tensor(aug.STD).view(3, 1, 1)


def test_augmentations_normalise_with_the_resnet_statistics():
    assert aug.MEAN is resnet.MEAN and aug.STD is resnet.STD
    assert resnet.IMAGENET_MEAN.flatten().tolist() == pytest.approx([0.485, 0.456, 0.406])
    assert resnet.IMAGENET_STD.flatten().tolist() == pytest.approx([0.229, 0.224, 0.225])


def test_none_level_is_resize_and_normalise_only():
    config = helpers.repo_config()["ecan"]["augment"]
    x = _image()
    for dataset in aug.DATASETS:
        train, evaluate = aug.build(dataset, "none", config, 48)
        assert torch.allclose(train(x), _normalised(x), atol=1e-6)
        assert torch.allclose(evaluate(x), _normalised(x), atol=1e-6)


def test_rafdb_weak_changes_geometry_only_by_flips():
    config = helpers.repo_config()["ecan"]["augment"]
    grey = _image()[:1].expand(3, -1, -1).contiguous()  # R = G = B: RandomGrayscale leaves it unchanged
    train, _ = aug.build("rafdb", "weak", config, 48)
    torch.manual_seed(0)
    flips = 0
    for _ in range(30):
        out = train(grey)
        kept = (out != 0).all(0)  # RandomErasing writes zeros; everything else must be the image or its mirror
        plain, mirrored = _normalised(grey), _normalised(grey.flip(-1))
        same = torch.allclose(out[:, kept], plain[:, kept], atol=2e-2)
        mirror = torch.allclose(out[:, kept], mirrored[:, kept], atol=2e-2)
        assert same or mirror
        flips += mirror and not same
    assert 0 < flips < 30


def test_fer2013_strong_tests_on_five_crops_and_is_seeded():
    config = helpers.repo_config()["ecan"]["augment"]
    train, evaluate = aug.build("fer2013", "strong", config, 48)
    x = _image()
    assert evaluate(x).shape == (5, 3, 48, 48)
    assert train(x).shape == (3, 48, 48)
    torch.manual_seed(5)
    a = train(x)
    torch.manual_seed(5)
    assert torch.equal(a, train(x))
    _, weak_eval = aug.build("fer2013", "weak", config, 48)
    assert weak_eval(x).shape == (3, 48, 48)


def test_unknown_level_or_op_is_named():
    config = helpers.repo_config()["ecan"]["augment"]
    with pytest.raises(ValueError, match="medium"):
        aug.build("rafdb", "medium", config, 48)
    bad = {**config, "rafdb": {**config["rafdb"], "levels": {**config["rafdb"]["levels"], "weak": ["cutmix"]}}}
    with pytest.raises(ValueError, match="cutmix"):
        aug.build("rafdb", "weak", bad, 48)


# ---------------------------------------------------------------- batched ops = torchvision's per-image ops


def test_batched_affine_is_torchvisions_affine():
    import torchvision.transforms.functional as TF
    from torchvision.transforms import InterpolationMode

    x = _image().float() / 255
    params = [(7.0, (3, -2), 1.05, 8.0), (-10.0, (0, 4), 0.9, -6.0), (0.0, (0, 0), 1.0, 0.0)]
    batch = x[None].expand(len(params), -1, -1, -1)
    angle, translate, scale, shear = (torch.tensor(v, dtype=torch.float64) for v in zip(*params))
    ours = aug._affine(batch, angle, translate.reshape(-1, 2), scale, shear)
    for i, (a, t, s, sh) in enumerate(params):
        reference = TF.affine(x, a, list(t), s, [sh, 0.0], interpolation=InterpolationMode.NEAREST)
        assert (
            ours[i] != reference
        ).float().mean() < 0.002  # the same sampling grid, up to float rounding at pixel boundaries


def test_batched_colour_blur_and_crops_are_torchvisions():
    import torchvision.transforms.functional as TF

    x = aug.prepare(np.random.default_rng(1).integers(0, 256, (1, 48, 48, 3), dtype=np.uint8), 48).float() / 255
    f = torch.tensor([1.3])
    for op, reference in ((0, TF.adjust_brightness), (1, TF.adjust_contrast), (2, TF.adjust_saturation)):
        assert torch.allclose(aug.RandomColorJitter.adjust(x, op, f)[0], reference(x[0], 1.3), atol=1e-6)
    blur = aug.RandomGaussianBlur(5, (1.2, 1.2), p=1.0)
    assert torch.allclose(blur(x)[0], TF.gaussian_blur(x[0], [5, 5], [1.2, 1.2]), atol=1e-5)
    five = aug.RandomFiveCrop(48, 0.875)
    crops = [TF.resize(c, [48, 48], antialias=True) for c in TF.five_crop(x[0], [42, 42])]
    torch.manual_seed(0)
    drawn = set()
    for view in five(x.expand(40, -1, -1, -1)):
        matches = [i for i, c in enumerate(crops) if torch.allclose(view, c, atol=1e-5)]
        assert len(matches) == 1
        drawn.add(matches[0])
    assert drawn == set(range(5))  # each of the five crops is drawn, not one always
    assert torch.allclose(aug.FiveCropStack(48, 0.875)(x)[0], torch.stack(crops), atol=1e-5)
    padded = torch.nn.functional.pad(x, (6, 6, 6, 6), mode="reflect")[0]
    for view in aug.RandomCrop(48, 6)(x.expand(10, -1, -1, -1)):
        assert any(torch.equal(view, padded[:, i : i + 48, j : j + 48]) for i in range(13) for j in range(13))


def test_batched_ops_draw_per_sample_and_keep_torchvisions_rates():
    torch.manual_seed(0)
    x = torch.rand(4000, 3, 16, 16) + 0.1  # no zeros before erasing
    flipped = aug.RandomHorizontalFlip(0.5)(x)
    assert 0.46 < (flipped[:, 0, 0, 0] != x[:, 0, 0, 0]).float().mean() < 0.54
    grey = aug.RandomGrayscale(0.2)(x)
    assert 0.17 < (grey[:, 0] == grey[:, 1]).all(-1).all(-1).float().mean() < 0.23
    erased = aug.RandomErasing(0.5, (0.02, 0.25), (0.3, 3.3))(x)
    fraction = (erased == 0).all(1).float().mean((1, 2))
    assert 0.46 < (fraction > 0).float().mean() < 0.54 and fraction.max() <= 0.25 + 0.05
    jittered = aug.RandomColorJitter(0.4, 0.4, 0.4, 0.0, 0.8)(x)
    assert 0.77 < (jittered != x).flatten(1).any(1).float().mean() < 0.83
