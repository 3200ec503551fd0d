"""The training and pack jobs' memory model (affrepro.resources): flat in the dataset size but for a few
bytes per frame, hand-computed at the real size (the rules ask for it: test_common_resources)."""

import math

from helpers import repo_config

from affrepro import resources
from affrepro.config.resolve import effective_config
from affrepro.emi import costs as emi_costs
from affrepro.va import costs as va_costs

REAL_CLIPS = 17_246


def real_emi_config() -> dict:
    config = repo_config()
    config["datasets"]["hume_vidmimic2"]["root"] = "/data/hume"
    return effective_config(config, "emi")


def test_emi_branch_model_at_the_real_size_by_hand():
    config = real_emi_config()
    config["emi"]["feature_sets"]["audio"] = {"modality": "A", "extractors": ["wav2vec2"]}
    config["emi"]["seeds"] = [0, 1, 2, 3, 4, 5]
    # batch 128 x T 300 = 38,400 tokens x (8 B x 1024 features + 8.2 KB of TCN); 3.62 M frames x 8 B of index;
    # 17,246 clips x 6 seeds x 1,096 B of prediction rows; on the job's base of 738 MB; x 1.2, up to 100 MB
    by_hand = 738 + (38_400 * (8 * 1024 + 8_200) + REAL_CLIPS * 210 * 8 + REAL_CLIPS * 6 * 1_096) / 2**20
    assert emi_costs.train_mem_mb(config, "audio", REAL_CLIPS, 1024) == math.ceil(by_hand * 1.2 / 100) * 100 == 1800
    # a visual branch adds the Transformer's attention per token, not per clip
    config["emi"]["feature_sets"]["visual"] = {"modality": "V", "extractors": ["wav2vec2"]}
    assert (
        emi_costs.train_mem_mb(config, "visual", REAL_CLIPS, 1024)
        == math.ceil((by_hand + 38_400 * (53_000 - 8_200) / 2**20) * 1.2 / 100) * 100
    )
    # ten times the clips: the same but for the index and the prediction rows (about 2.8 KB per clip with 1 seed: 25 MB)
    config["emi"]["seeds"] = [0]
    small, large = (emi_costs.train_mem_mb(config, "audio", n, 1024) for n in (1_000, 10_000))
    assert small <= large <= small + 100


def test_va_fold_and_pack_models():
    config = repo_config()
    config["datasets"]["affwild2"]["root"] = "/data/affwild2"
    config = effective_config(config, "va")
    trials = 432  # ~2 M annotated frames: labels (24 B) and three extractors' indexes (24 B) per frame
    frames = trials * (2_000_000 // 432)
    assert va_costs.fold_mem_mb(config, trials) == math.ceil((1_674 + frames * 48 / 2**20) * 1.2 / 100) * 100
    assert va_costs.fold_mem_mb(config, trials) <= 4_000 - resources.SLURM_WRAPPERS_MB
    config["va"]["train"]["batch_size"] = 8  # half the batch: half the measured activations
    assert (
        va_costs.fold_mem_mb(config, trials)
        == math.ceil((1_674 - (1_674 - 648) / 2 + frames * 48 / 2**20) * 1.2 / 100) * 100
    )
    assert (
        resources.pack_mem_mb(real_emi_config(), "emi", REAL_CLIPS)
        == math.ceil((96 + REAL_CLIPS * 210 * 8 / 2**20) * 1.2 / 100) * 100
    )
