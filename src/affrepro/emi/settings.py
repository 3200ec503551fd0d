"""The settings each EMI job runs with (affrepro.jobsettings): one frozen class per job module, each field naming
the config key it is read from, so one declaration gives the job's config view (its rule's params), the values
it runs with, and the keys of EMI's DVC stage.

Here rather than in the job modules, which import torch: the workflow reads these while it plans.
"""

from __future__ import annotations

from dataclasses import dataclass

from affrepro import substitutes
from affrepro.emi import plan
from affrepro.emi.extractors import AUDIO, EXTRACTORS
from affrepro.jobsettings import JobSettings, OnDevice, by_module, part, profile, setting

FACES = {"stage": ("faces",)}
AUDIO_STAGE = {"stage": ("audio",)}
WITH_BLOCK = tuple(e for e in EXTRACTORS if e != "au")  # settings at extractors.<name>; the AUs' are OpenFace's


@dataclass(frozen=True, kw_only=True)
class DemoData(JobSettings, module="demo.hume"):
    demo: dict = setting("demo.hume_vidmimic2")


@dataclass(frozen=True, kw_only=True)
class Prepare(OnDevice, module="emi.prepare"):
    """A shard of the faces or the audio stage; only the faces stage runs torch."""

    stage: str
    samples: dict = part(plan.sample_keys)  # the shard's samples (affrepro.emi.plan) and their on_unreadable
    device: str = setting("compute.device", when=FACES)
    precision: str = setting("compute.precision", when=FACES)
    mtcnn: dict = setting("preprocess.mtcnn", when=FACES)
    fps: float = setting("preprocess.fps", when=FACES)
    face_size: int = setting("preprocess.face_size", when=FACES)
    audio: dict = setting("preprocess.audio", when=AUDIO_STAGE)

    @property
    def on_unreadable(self) -> str:
        return self.samples["datasets"]["hume_vidmimic2"]["on_unreadable"]


@dataclass(frozen=True, kw_only=True)
class Features(OnDevice, module="emi.features"):
    """One extractor over one shard: its own block of extractors (OpenFace's for the AUs), and for wav2vec2 the
    frame rate its windows follow."""

    extractor: str
    own: dict = setting("extractors.{extractor}", choices={"extractor": WITH_BLOCK}, when={"extractor": WITH_BLOCK})
    openface: dict = setting("extractors.openface", when={"extractor": ("au",)})
    fps: float = setting("preprocess.fps", when={"extractor": AUDIO})

    @property
    def extractors(self) -> dict:
        """The extractors block as the encoders read it (only this job's part)."""
        return {"openface": self.openface} if self.extractor == "au" else {self.extractor: self.own}


@dataclass(frozen=True, kw_only=True)
class Pack(JobSettings, module="emi.pack"):
    samples: dict = part(plan.sample_keys)

    def splits(self, root) -> dict[str, list[str]]:
        """The partitions (train, valid, test), each in the plan's sample order."""
        return plan.partition_keys(self.samples, root)


def _feature_sets(config: dict, feature_set: str | None = None, fusion: str | None = None, **_) -> list[str]:
    """A branch job's feature set, or a fusion job's members."""
    return config["emi"]["fusions"][fusion] if fusion else [feature_set]


def _stand_ins():
    """The stand-ins of the job's feature sets (affrepro.substitutes.field), each set's extractors in turn."""
    return substitutes.field(
        "emi",
        lambda config, **fields: [
            config["emi"]["feature_sets"][s]["extractors"] for s in _feature_sets(config, **fields)
        ],
        lambda config, **fields: [f"emi.feature_sets.{s}" for s in _feature_sets(config, **fields)],
    )


@dataclass(frozen=True, kw_only=True)
class Train(OnDevice, module="emi.train"):
    """One branch (feature set), every seed."""

    feature_set: str
    spec: dict = setting("emi.feature_sets.{feature_set}")  # modality and extractors
    seeds: list = setting("emi.seeds")
    train: dict = setting("emi.train")
    model: dict = setting("emi.model")
    samples: dict = part(plan.sample_keys)
    substitutes: list = _stand_ins()


@dataclass(frozen=True, kw_only=True)
class Fusion(JobSettings, module="emi.aggregate"):
    """One late fusion of its member branches."""

    fusion: str
    members: list = setting("emi.fusions.{fusion}")
    samples: dict = part(plan.sample_keys)
    substitutes: list = _stand_ins()  # the union of the members', in member order


@dataclass(frozen=True, kw_only=True)
class Stats(JobSettings, module="emi.stats"):
    profile: str = profile()


JOBS = by_module(DemoData, Prepare, Features, Pack, Train, Fusion, Stats)
