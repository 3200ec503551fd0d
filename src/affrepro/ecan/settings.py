"""The settings each ECAN job runs with (affrepro.jobsettings): one frozen class per job module, each field
naming the config key it is read from, so one declaration gives the job's config view (its rule's params), the
values it runs with, and the keys of ECAN's DVC stage. A training run's own settings (affrepro.ecan.train's
`Settings`) are built from its job's.

Here rather than in the job modules, which import torch: the workflow reads these while it plans.
"""

from __future__ import annotations

from dataclasses import dataclass

from affrepro import substitutes
from affrepro.ecan import plan
from affrepro.jobsettings import JobSettings, OnDevice, by_module, derived, part, setting

EITHER = {"dataset": plan.DATASETS}


@dataclass(frozen=True, kw_only=True)
class DemoData(JobSettings, module="demo.expressions"):
    dataset: str
    demo: dict = setting("demo.{dataset}", choices=EITHER)


@dataclass(frozen=True, kw_only=True)
class Train(OnDevice, module="ecan.train"):
    """Every seed of one setting (a run spec without its seed): its dataset's values, never the other's."""

    setting: str
    dataset: str
    seeds: list = setting("ecan.seeds")
    loss: dict = setting("ecan.loss")
    model: dict = setting("ecan.model")
    train: dict = setting("ecan.train")
    data: dict = setting("ecan.{dataset}", choices=EITHER)  # epochs, input size, weights, subset
    augment: dict = setting("ecan.augment.{dataset}", choices=EITHER)
    location: dict = setting("datasets.{dataset}", choices=EITHER)
    # is_demo reads datasets.<dataset>, which `location` already lists
    demo: bool = derived(lambda config, **_: [], lambda config, dataset, **_: plan.is_demo(config, dataset))
    substitutes: list = substitutes.field("ecan", lambda config, dataset, **_: [[dataset]])

    @classmethod
    def job_fields(cls, fields: dict) -> dict:
        return fields | {"dataset": plan.parse_setting(fields["setting"])["dataset"]}

    @property
    def spec(self) -> dict:
        """The setting's run spec, without its seed."""
        return plan.parse_setting(self.setting)


@dataclass(frozen=True, kw_only=True)
class Aggregate(JobSettings, module="ecan.aggregate"):
    runs: dict = part(lambda config: ["ecan.experiments", "ecan.defaults", "ecan.seeds"])  # plan.group_runs


@dataclass(frozen=True, kw_only=True)
class Stats(JobSettings, module="ecan.stats"):
    augment: dict = setting("ecan.augment")  # Table 1's flags
    datasets: dict = part(lambda config: [f"datasets.{d}" for d in plan.DATASETS])  # kind, on_unreadable


@dataclass(frozen=True, kw_only=True)
class Figures(JobSettings, module="ecan.figures"):
    # what affrepro.ecan.provenance.data_label reads: which data are demo, whose budget
    labelled: dict = part(
        lambda config: ["profile", "ecan.train", *(k for d in plan.DATASETS for k in (f"datasets.{d}", f"ecan.{d}"))]
    )


JOBS = by_module(DemoData, Train, Aggregate, Stats, Figures)
