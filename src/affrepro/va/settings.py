"""The settings each VA job runs with (affrepro.jobsettings): one frozen class per job module, each field naming
the config key it is read from, so one declaration gives the job's config view (its rule's params), the values
it runs with, and the keys of VA's DVC stage.

Here rather than in the job modules, which import torch: the workflow reads these while it plans.
"""

from __future__ import annotations

from dataclasses import dataclass

from affrepro import substitutes
from affrepro.jobsettings import JobSettings, OnDevice, by_module, part, setting
from affrepro.va import plan

WITH_WEIGHTS = tuple(e for e in plan.EXTRACTORS if e != "mfcc")  # MFCC has no settings of its own
ON_AUDIO_OR_FRAMES = {"va_extractor": WITH_WEIGHTS}


@dataclass(frozen=True, kw_only=True)
class DemoData(JobSettings, module="demo.affwild2"):
    demo: dict = setting("demo.affwild2")


@dataclass(frozen=True, kw_only=True)
class Prepare(JobSettings, module="va.prepare"):
    trials: dict = part(plan.trial_keys)  # the shard's trials (affrepro.va.plan) and their on_unreadable
    frame_size: int = setting("va.preprocess.frame_size")
    sample_rate: int = setting("va.preprocess.sample_rate")

    @property
    def on_unreadable(self) -> str:
        return self.trials["datasets"]["affwild2"]["on_unreadable"]


@dataclass(frozen=True, kw_only=True)
class Features(OnDevice, module="va.features"):
    va_extractor: str
    own: dict = setting("extractors.{va_extractor}", choices=ON_AUDIO_OR_FRAMES, when=ON_AUDIO_OR_FRAMES)


@dataclass(frozen=True, kw_only=True)
class Folds(JobSettings, module="va.folds"):
    cv: dict = setting("va.cv")  # folds and the seed that deals them


@dataclass(frozen=True, kw_only=True)
class Pack(JobSettings, module="va.pack"):
    trials: dict = part(plan.trial_keys)

    def splits(self, root) -> dict[str, list[str]]:
        """One cross-validation pool, train then validation trials, that affrepro.va.folds deals to folds."""
        return {"trials": plan.trials(self.trials, root)}


@dataclass(frozen=True, kw_only=True)
class Train(OnDevice, module="va.train"):
    """One fold under one selection protocol."""

    seed: int = setting("va.seed")  # fold k trains with seed + k
    extractors: list = setting("va.extractors")
    model: dict = setting("va.model")
    train: dict = setting("va.train")
    folds: int = setting("va.cv.folds")
    substitutes: list = substitutes.field("va", lambda config, **_: [list(config["va"]["extractors"])])


JOBS = by_module(DemoData, Prepare, Features, Folds, Pack, Train)
