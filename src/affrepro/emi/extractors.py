"""The EMI paper's feature extractors by modality (its feature sets combine them; config.yaml `emi.feature_sets`)."""

VISUAL = ("resnet18", "au", "dino")
AUDIO = ("wav2vec2",)
EXTRACTORS = VISUAL + AUDIO
