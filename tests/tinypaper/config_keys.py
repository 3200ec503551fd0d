"""The config keys each tiny job reads (affrepro.jobconfig)."""

KEYS = {
    "demo": lambda config, **_: ["demo.tiny_points"],
    "train": lambda config, **_: ["tiny.test_fraction"],
}
