"""The settings each tiny job runs with (affrepro.jobsettings)."""

from dataclasses import dataclass

from affrepro.jobsettings import JobSettings, by_module, setting


@dataclass(frozen=True, kw_only=True)
class DemoData(JobSettings, module="demo"):
    demo: dict = setting("demo.tiny_points")


@dataclass(frozen=True, kw_only=True)
class Train(JobSettings, module="train"):
    test_fraction: float = setting("tiny.test_fraction")


JOBS = by_module(DemoData, Train)
