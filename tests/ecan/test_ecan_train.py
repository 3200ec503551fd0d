"""ECAN training: the loss table, a few deterministic steps, the bank's init pass, clean splits, the run's output."""

from __future__ import annotations

import dataclasses
import json
import math

import helpers
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml

from affrepro import jobs
from affrepro.config.resolve import effective_config
from affrepro.demo import expressions
from affrepro.ecan import losses, plan
from affrepro.ecan import train as ecan_train
from affrepro.ecan.prepare import stratified_split
from affrepro.ecan.settings import Train as TrainJob
from affrepro.ecan.train import LOSSES, Settings
from affrepro.features.weights import parse_weights
from affrepro.models.ecan import ECAN

CPU = {"device": "cpu", "precision": "fp32", "threads": 1}


def _arrays(n, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 7
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    images[:, 20:28, 20:28] = (labels * 36)[:, None, None]  # a planted, learnable cue
    return images, labels.astype(np.int64)


def tiny_settings(**changes) -> Settings:
    """A few steps on 32-pixel inputs: FER2013, strong augmentation, Eq. 11 with V = 3."""
    config = effective_config(helpers.repo_config(), "ecan")
    base = Settings.from_config(config, {"dataset": "fer2013", "losses": "ensc+mva", "V": 3})
    tiny = dict(
        key_momentum=0.9,
        bank_groups=2,
        epochs=2,
        batch_size=8,
        lr=0.01,
        input_size=32,
        weights="random",
        seed=0,
        compute=CPU,
        eval_batch_size=16,
        max_steps=2,
    )
    return dataclasses.replace(base, **(tiny | changes))


# ---------------------------------------------------------------- the loss table


def test_loss_table_rows_name_the_papers_losses():
    assert LOSSES["supcon"].contrastive is losses.supcon and not LOSSES["supcon"].uses_bank
    assert LOSSES["esc"].contrastive is losses.esc and LOSSES["esc"].uses_bank
    assert LOSSES["ensc"].contrastive is losses.ensc and LOSSES["ensc"].uses_bank and not LOSSES["ensc"].mva
    assert LOSSES["ensc+mva"].contrastive is losses.ensc and LOSSES["ensc+mva"].mva
    assert LOSSES["ce"].contrastive is None and LOSSES["center"].center and LOSSES["center"].views == 1
    assert {name for name, spec in LOSSES.items() if spec.views == 2} == {"supcon", "esc", "ensc", "ensc+mva"}
    schema = yaml.safe_load((helpers.REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert list(LOSSES) == schema["$defs"]["ecan_loss_set"]["enum"]  # every loss set the config accepts has a row


def _model_with_full_bank(settings: Settings) -> ECAN:
    model = ECAN(parse_weights("random", "test"), 7, 0, settings.bank_size)
    for g in range(settings.bank_size):
        model.enqueue(
            torch.rand(4, 512, generator=torch.Generator().manual_seed(g)), torch.tensor([0, 1, 2, 3])
        )  # non-negative, like pooled ReLU features
    return model


@pytest.mark.parametrize(
    "row, negatives",
    [
        ("ce", []),
        ("center", []),
        ("supcon", ["none"]),
        ("esc", ["all"]),
        ("ensc", ["other_class"]),
        ("ensc+mva", ["other_class"]),
    ],
)
def test_each_row_calls_its_contrastive_loss(row, negatives, monkeypatch):
    """losses.supcon / esc / ensc call losses.contrastive with their negatives; a wrong row in the table calls another."""
    calls = []
    real = losses.contrastive

    def spy(z, y, tau, bank_z=None, bank_y=None, negatives="none"):
        calls.append((negatives, None if bank_z is None else len(bank_z)))
        return real(z, y, tau, bank_z, bank_y, negatives)

    monkeypatch.setattr(losses, "contrastive", spy)
    settings = tiny_settings(losses=row)
    model = _model_with_full_bank(settings)
    x, y = torch.rand(4, 3, 32, 32), torch.tensor([0, 0, 1, 1])
    loss, zk, _ = ecan_train.minibatch_loss(
        model, settings, torch.device("cpu"), x, x.clone() if LOSSES[row].views == 2 else None, y
    )
    assert [n for n, _ in calls] == negatives
    assert all(bank == (4 * settings.bank_size if LOSSES[row].uses_bank else None) for _, bank in calls)
    assert (zk is None) == (LOSSES[row].views == 1) and loss.ndim == 0


def test_ensc_row_is_eq11_without_mva_on_normalised_features():
    settings = tiny_settings(losses="ensc", lambda1=0.3)
    model = _model_with_full_bank(settings)
    x, y = torch.rand(4, 3, 32, 32), torch.tensor([0, 0, 1, 1])
    loss, _, _ = ecan_train.minibatch_loss(model, settings, torch.device("cpu"), x, x.clone(), y)
    with torch.no_grad():  # the same forward passes, combined by hand
        zq, logits = model(x)
        z = F.normalize(torch.cat([zq, model.encode_key(x)]), dim=1)
        bank_z, bank_y = model.bank.all()
        expected = 0.7 * losses.cross_entropy(logits, y) + 0.3 * losses.ensc(
            z, torch.cat([y, y]), settings.tau, F.normalize(bank_z, dim=1), bank_y
        )
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)
    assert float(expected) != pytest.approx(
        0.7 * float(losses.cross_entropy(logits, y))
        + 0.3 * float(losses.esc(z, torch.cat([y, y]), settings.tau, F.normalize(bank_z, dim=1), bank_y)),
        rel=1e-3,
    )


def test_contrastive_loss_sees_normalised_z_and_mva_sees_raw_z(monkeypatch):
    """Eq. 11's terms read different features: ENSC the L2-normalised z (and bank), MVA the raw z_q and raw bank groups."""
    seen = {}
    real_contrastive, real_mva = losses.contrastive, losses.mva

    def contrastive_spy(z, y, tau, bank_z=None, bank_y=None, negatives="none"):
        seen["contrastive"] = (z.detach().clone(), bank_z.clone())
        return real_contrastive(z, y, tau, bank_z, bank_y, negatives)

    def mva_spy(x, y, centers, history=()):
        seen["mva"] = (x.detach().clone(), list(history))
        return real_mva(x, y, centers, history)

    monkeypatch.setattr(losses, "contrastive", contrastive_spy)
    monkeypatch.setattr(losses, "mva", mva_spy)
    settings = tiny_settings()  # ENSC + MVA, V = 3, K = 2
    model = _model_with_full_bank(settings)
    x, y = torch.rand(4, 3, 32, 32), torch.tensor([0, 0, 1, 1])
    ecan_train.minibatch_loss(model, settings, torch.device("cpu"), x, x.clone(), y)
    with torch.no_grad():  # the same forward passes (train-mode BN on the same batch gives the same features)
        zq, zk = model(x)[0], model.encode_key(x)
    z, bank_z = seen["contrastive"]
    assert torch.allclose(
        z, torch.cat([zq / zq.norm(dim=1, keepdim=True), zk / zk.norm(dim=1, keepdim=True)]), atol=1e-6
    )
    assert torch.allclose(bank_z.norm(dim=1), torch.ones(len(bank_z)), atol=1e-6)
    mva_x, history = seen["mva"]
    assert (
        torch.allclose(mva_x, zq, atol=1e-6) and (mva_x.norm(dim=1) - 1).abs().min() > 0.1
    )  # raw, visibly not unit length
    newest = model.bank.recent(2)  # the V - 1 newest groups, as stored (raw)
    assert len(history) == 2 and all(torch.equal(h, b) for (h, _), (b, _) in zip(history, newest))
    assert all((h.norm(dim=1) - 1).abs().min() > 0.1 for h, _ in history)


def test_the_run_output_names_its_substitutes(tmp_path, monkeypatch):
    """On a real RAF-DB root with a random encoder (allowed by allow_substitutes) the RAF-DB runs say so; FER2013 from scratch is the paper's."""
    config = helpers.repo_config()
    config["datasets"]["rafdb"]["root"] = str(tmp_path / "rafdb")
    config["ecan"]["rafdb"]["weights"] = "random"
    config["allow_substitutes"] = True
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setattr(
        ecan_train.prepare, "load_splits", lambda dataset, location, ecan, on_unreadable: (None, None, None)
    )
    monkeypatch.setattr(
        ecan_train, "run", lambda settings, train, val, test, checkpoint=None: {"losses": settings.losses}
    )
    outputs = {}
    for run_id in ("rafdb-strong-ce-l1_0.2-l2_0.7-V5-s0", "fer2013-strong-ce-l1_0.2-l2_0.7-V5-s0"):
        ecan_train.main(
            [
                "--config",
                str(tmp_path / "config.yaml"),
                "--setting",
                run_id.removesuffix("-s0"),
                "--data",
                str(tmp_path / run_id),
                "--out",
                str(tmp_path / f"{run_id}.json"),
            ]
        )
        outputs[run_id.split("-")[0]] = json.loads((tmp_path / f"{run_id}.json").read_text())
    assert outputs["rafdb"]["substitutes"] == [
        "ecan.rafdb.weights is `random`: ResNet-18 trains from random init instead of the paper's MS-Celeb-1M pretraining"
    ]
    assert outputs["fer2013"]["substitutes"] == [] and outputs["fer2013"]["losses"] == "ce"


# ---------------------------------------------------------------- settings


def test_settings_come_from_the_config_and_the_spec():
    config = effective_config(helpers.repo_config(), "ecan")
    settings = Settings.from_config(config, plan.runs(config)["rafdb-strong-supcon-l1_0.2-l2_0.7-V5-s0"])
    assert (settings.dataset, settings.augment, settings.losses, settings.lambda1, settings.V, settings.seed) == (
        "rafdb",
        "strong",
        "supcon",
        0.2,
        5,
        0,
    )
    ecan = config["ecan"]
    assert (settings.batch_size, settings.lr, settings.key_momentum) == (
        ecan["train"]["batch_size"],
        ecan["train"]["lr"],
        ecan["model"]["key_momentum"],
    )
    assert (settings.epochs, settings.input_size, settings.weights) == (
        ecan["rafdb"]["epochs"],
        ecan["rafdb"]["input_size"],
        "random",
    )
    assert settings.bank_size == 0  # SupCon reads no bank
    assert (
        settings.bank_groups == ecan["model"]["bank_groups"] == 7
    )  # K: the paper gives none; the smallest that serves Figure 4's V = 1..8
    assert (
        dataclasses.replace(settings, losses="ensc", bank_groups=9, V=2).bank_size == 9
    )  # K is its own setting, not V - 1


def test_the_v_sweep_varies_v_alone():
    """Figure 4's runs differ in V only: the same K, hence the same memory bank (same ENSC negatives), at every V."""
    config = effective_config(helpers.repo_config(), "ecan")
    sweep = [
        Settings.from_config(config, specs[0])
        for name, specs in plan.experiments(config).items()
        if name.startswith("figure4/")
    ]
    assert [s.V for s in sweep] == config["ecan"]["experiments"]["figure4"]["V"] == [1, 3, 5, 7]
    assert {s.bank_size for s in sweep} == {config["ecan"]["model"]["bank_groups"]}
    assert all(dataclasses.replace(s, V=1) == dataclasses.replace(sweep[0], V=1) for s in sweep)  # nothing else differs
    with pytest.raises(ValueError, match=r"ecan.model.bank_groups \(K = 4\) must be >= V - 1 = 6"):
        dataclasses.replace(sweep[-1], bank_groups=4)
    assert (
        dataclasses.replace(sweep[-1], losses="ensc", bank_groups=4).bank_size == 4
    )  # only the MVA loss needs V - 1 groups


def test_settings_name_what_is_wrong():
    with pytest.raises(ValueError, match="losses must be one of"):
        tiny_settings(losses="triplet")
    with pytest.raises(ValueError, match="V .* must be >= 1"):
        tiny_settings(V=0)
    with pytest.raises(ValueError, match="ecan.fer2013.weights is not set"):
        tiny_settings(weights=None)
    with pytest.raises(ValueError, match="lamda1"):
        Settings.from_config(effective_config(helpers.repo_config(), "ecan"), {"dataset": "rafdb", "lamda1": 0.3})


def test_gafs_schedule_and_the_other_readings():
    """GAF's CIFAR/train.py: WarmUpLR over epoch 1 (step t of N at lr t / N), then CosineAnnealingLR(T_max=epochs)
    stepped with the epoch; computed here by hand for lr 0.1, 200 epochs of 10 steps."""
    gaf = tiny_settings(lr=0.1, epochs=200, schedule="cosine_epoch", warmup_epochs=1)
    assert [ecan_train.lr_at(1, s, 10, gaf) for s in (0, 4, 9)] == pytest.approx([0.01, 0.05, 0.1])
    epoch2 = 0.05 * (1 + math.cos(math.pi * 2 / 200))  # 0.099975...
    assert ecan_train.lr_at(2, 0, 10, gaf) == ecan_train.lr_at(2, 9, 10, gaf) == pytest.approx(epoch2)
    assert ecan_train.lr_at(100, 3, 10, gaf) == pytest.approx(0.05) and ecan_train.lr_at(
        200, 0, 10, gaf
    ) == pytest.approx(0)
    per_step = dataclasses.replace(gaf, schedule="cosine_step", warmup_epochs=0)
    assert ecan_train.lr_at(1, 0, 10, per_step) == pytest.approx(0.1)
    assert ecan_train.lr_at(101, 0, 10, per_step) == pytest.approx(0.05)  # step 1000 of 2000
    assert ecan_train.lr_at(7, 3, 10, dataclasses.replace(per_step, schedule="constant")) == 0.1


def test_sgd_atan_is_gafs_update():
    """GAF.py's SGD_atan by hand: d = alpha atan(beta g) + wd p; buf = d (first step), else 0.9 buf + d; p -= lr buf."""
    weight = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    optimiser = torch.optim.SGD([weight], lr=0.1, momentum=0.9, weight_decay=5e-4)
    p, buf = torch.tensor([1.0, -2.0]), None
    for grad in (torch.tensor([0.3, -0.01]), torch.tensor([-2.0, 0.5])):
        weight.grad = grad.clone()
        ecan_train.activate_gradients([weight], 0.1, 20.0)
        optimiser.step()
        d = 0.1 * torch.atan(20.0 * grad) + 5e-4 * p
        buf = d if buf is None else 0.9 * buf + d
        p = p - 0.1 * buf
        assert torch.allclose(weight.detach(), p, atol=1e-7)


def test_collapse_is_flagged_after_k_epochs_in_a_row():
    assert ecan_train.prior_entropy(np.array([0, 0, 1, 1])) == pytest.approx(math.log(2))
    assert ecan_train.majority_share([[3, 1], [2, 0]]) == pytest.approx(5 / 6)  # 5 of 6 predictions are class 0
    prior = math.log(2)
    assert ecan_train.collapse_signal({"train_ce": prior * 1.005, "val_majority_share": 0.5}, prior)  # the prior's loss
    assert ecan_train.collapse_signal({"train_ce": 0.2, "val_majority_share": 0.96}, prior)  # one class
    assert not ecan_train.collapse_signal({"train_ce": prior * 0.9, "val_majority_share": 0.94}, prior)
    history = [{"epoch": e, "collapse": c} for e, c in enumerate([False, True, True, False, True, True, True], 1)]
    assert ecan_train.collapsed_at(history, 2) == 3 and ecan_train.collapsed_at(history, 3) == 7
    assert ecan_train.collapsed_at(history, 4) is None


# ---------------------------------------------------------------- runs


def test_tiny_run_is_deterministic_and_json_able():
    data = (_arrays(24, 0), _arrays(14, 1), _arrays(14, 2))
    first = ecan_train.run(tiny_settings(), *data)
    second = ecan_train.run(tiny_settings(), *data)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["budget"]["steps"] == 4 and first["budget"]["init_steps"] == 2
    assert first["hyperparameters"]["bank_groups"] == 2  # K = bank_groups (V = 3 reads both groups)
    assert len(first["history"]) == 2 and 1 <= first["best_epoch"] <= 2
    assert np.asarray(first["test_confusion_matrix"]).sum() == 14
    assert first["weights"].startswith("random-init")
    # Beside the selected epoch's test scores: the final epoch's and the largest over epochs, as a diagnostic.
    tests = [row["test_score"] for row in first["history"]]
    assert first["final_epoch"] == {
        "epoch": 2,
        "test": {"accuracy": tests[-1], "macro_f1": first["history"][-1]["test_macro_f1"]},
    }
    assert first["diagnostic_max_test_accuracy"]["accuracy"] == max(tests)
    assert first["test"]["accuracy"] == tests[first["best_epoch"] - 1]  # scored once more, with the same weights
    assert set(first["collapse"]) == {"flagged", "epoch", "criterion", "prior_entropy", "stopped"}
    baseline = ecan_train.run(tiny_settings(losses="ce"), *data)
    assert baseline["budget"]["views_per_sample"] == 1 and baseline["budget"]["init_steps"] == 0


def test_init_pass_fills_a_bank_larger_than_an_epoch_and_test_labels_never_select():
    train, val, test = _arrays(24, 0), _arrays(14, 1), _arrays(14, 2)
    settings = tiny_settings(V=5, bank_groups=4)  # K = 4 groups, epochs of 2 steps
    result = ecan_train.run(settings, train, val, test)
    assert result["budget"]["init_steps"] == 4 and result["hyperparameters"]["bank_groups"] == 4
    shuffled = (test[0], np.random.default_rng(9).permutation(test[1]))
    other = ecan_train.run(settings, train, val, shuffled)

    def selection(history: list[dict]) -> list[dict]:  # what selects: everything but the test diagnostics
        return [{k: v for k, v in row.items() if not k.startswith("test_")} for row in history]

    assert (
        selection(other["history"]) == selection(result["history"])
        and other["best_epoch"] == result["best_epoch"]
        and other["val"] == result["val"]
    )
    assert other["history"] != result["history"]  # the per-epoch test accuracy is there, as a diagnostic


def test_stratified_split_is_seeded_disjoint_and_covers_every_class():
    labels = np.repeat(np.arange(7), [50, 5, 20, 100, 30, 12, 40])
    train_idx, val_idx = stratified_split(labels, 0.1, seed=0)
    again = stratified_split(labels, 0.1, seed=0)
    assert np.array_equal(val_idx, again[1]) and not set(train_idx) & set(val_idx)
    assert len(train_idx) + len(val_idx) == len(labels)
    assert np.bincount(labels[val_idx], minlength=7).tolist() == [5, 1, 2, 10, 3, 1, 4]


def test_the_job_trains_every_seed_of_its_setting_and_writes_each_run(tmp_path):
    config = helpers.repo_config()
    config["demo"]["fer2013"].update(n_train=40, n_public_test=14, n_private_test=14, min_per_class=2)
    overrides = config["demo"]["overrides"]["ecan"]
    overrides["seeds"] = [0, 1]
    overrides["train"].update(batch_size=16, eval_batch_size=16)
    overrides["fer2013"] = {"epochs": 1, "input_size": 32}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    data = tmp_path / "fer2013.csv.gz"
    expressions.write_fer2013(data, config["demo"]["fer2013"])
    setting = "fer2013-strong-ce-l1_0.2-l2_0.7-V5"
    outs = [tmp_path / "runs" / f"s{seed}" / "metrics.json" for seed in (0, 1)]

    def job(*arguments):
        ecan_train.main(["--config", str(tmp_path / "config.yaml"), "--data", str(data), *arguments])

    job("--setting", setting, "--out", *map(str, outs))
    first, second = (json.loads(out.read_text()) for out in outs)
    assert [first["run_id"], second["run_id"]] == [f"{setting}-s0", f"{setting}-s1"]
    assert first["substitutes"] == []  # the demo: stand-ins are the demo's, noted by every row anyway
    assert first["spec"] == {
        "dataset": "fer2013",
        "augment": "strong",
        "losses": "ce",
        "lambda1": 0.2,
        "lambda2": 0.7,
        "V": 5,
        "seed": 0,
    }
    assert second["spec"] == first["spec"] | {"seed": 1}
    assert first["data"] == {"kind": "demo", "location": str(data)}
    assert (
        first["budget"]["train_samples"] == 40
        and first["budget"]["epochs"] == 1
        and first["hyperparameters"]["batch_size"] == 16
    )
    assert np.asarray(first["test_confusion_matrix"]).sum() == 14
    assert first["history"] != second["history"]  # the seed reaches the training
    # The second seed, trained after the first in the same process, is the run a job of its own gives.
    job_settings = TrainJob.from_config(jobs.paper_config(tmp_path / "config.yaml", "ecan"), setting=setting)
    alone = ecan_train.run_output(job_settings, 1, str(data))
    assert json.dumps(alone, sort_keys=True) == json.dumps(second, sort_keys=True)

    with pytest.raises(SystemExit, match="unknown ECAN setting 'fer2013-strong-ce-l1_0.3"):
        job("--setting", setting.replace("l1_0.2", "l1_0.3"), "--out", *map(str, outs))
    with pytest.raises(SystemExit, match="--out names 1 file"):
        job("--setting", setting, "--out", str(outs[0]))


def test_bf16_tiny_run_is_deterministic_and_says_its_precision():
    data = (_arrays(24, 0), _arrays(14, 1), _arrays(14, 2))
    bf16 = tiny_settings(compute=CPU | {"precision": "bf16"})
    first, second = ecan_train.run(bf16, *data), ecan_train.run(bf16, *data)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["budget"]["precision"] == "bf16"
    assert first["history"] != ecan_train.run(tiny_settings(), *data)["history"]  # the precision reaches the training


def test_fast_layout_keeps_the_weights_keys_and_the_outputs():
    plain = ECAN(parse_weights("random", "x"), 7, 0, 2).eval()
    fast = ECAN(parse_weights("random", "x"), 7, 0, 2).eval().to_fast_layout(48)
    assert list(plain.state_dict()) == list(fast.state_dict())
    assert fast.encoder_q.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert fast.encoder_q.layer3[0].conv1.weight.is_contiguous()  # 3x3 maps at 48 px: NCHW
    x = torch.rand(4, 3, 48, 48)
    with torch.no_grad():
        assert torch.allclose(plain(x)[1], fast(x.contiguous(memory_format=torch.channels_last))[1], atol=1e-4)
    big = ECAN(parse_weights("random", "x"), 7, 0, 2).to_fast_layout(224)
    assert big.encoder_q.layer4[0].conv1.weight.is_contiguous(memory_format=torch.channels_last)  # 7x7 maps at 224 px
