"""VGGish audio features (VA paper §3.1-3.2, Table 1): 128-d per video frame.

Log-mel spectrogram exactly as the VGGish recipe (tensorflow/models
research/audioset/vggish: vggish_input + mel_features): 16 kHz mono, 25 ms
periodic-Hann frames every 10 ms, |FFT| (512 points), 64 HTK-mel bands over
125-7500 Hz, log(mel + 0.01), examples of 96 frames x 64 bands (0.96 s).

The paper sets the hop "to synchronise with other modalities": instead of the
recipe's 0.96 s example hop, one example is taken per video frame, centred on
that frame's time (edges padded with the first/last log-mel row), so the
embedding sequence has one row per annotated frame.

The network is VGGish (4 conv blocks, 4096-4096-128 fully connected, ReLU on
the embedding), in the key layout of the public PyTorch port
(harritaylor/torchvggish `vggish-10086976.pth`: features.{0,3,6,8,11,13},
embeddings.{0,2,4}); its PCA/quantisation post-processing is not applied, the
128-d embedding is used as the feature.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from affrepro.compute import autocast
from affrepro.features.weights import WeightsSpec, load_state_dict, seeded_init

DIM = 128
SAMPLE_RATE = 16000
WINDOW_S, HOP_S = 0.025, 0.010
MEL_BANDS, MEL_MIN_HZ, MEL_MAX_HZ = 64, 125.0, 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96


class VGGish(nn.Module):
    def __init__(self):
        super().__init__()
        layers, channels = [], 1
        for block in ((64,), (128,), (256, 256), (512, 512)):
            for width in block:
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
                channels = width
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 4 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, DIM),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 96, 64) log-mel examples -> (B, 128)."""
        x = self.features(x)
        x = x.permute(0, 2, 3, 1).flatten(1)  # NHWC flatten order, as the TensorFlow original
        return self.embeddings(x)


def build(spec: WeightsSpec) -> VGGish:
    if spec.kind == "hub":
        raise ValueError(f"extractors.vggish.weights: {spec.value} is neither `random` nor an existing checkpoint path")
    seeded_init()
    model = VGGish()
    if spec.kind == "path":
        state = {k: v for k, v in load_state_dict(spec.value).items() if not k.startswith("pca_")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"{spec.value}: not a torchvggish state dict (missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
    return model.eval()


def hertz_to_mel(hertz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(hertz, dtype=np.float64) / 700.0)


def mel_matrix(n_spectrogram_bins: int) -> np.ndarray:
    """(bins, 64) triangular HTK-mel weights, the DC bin zeroed (mel_features.spectrogram_to_mel_matrix)."""
    bins_mel = hertz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2.0, n_spectrogram_bins))
    edges = np.linspace(hertz_to_mel(MEL_MIN_HZ), hertz_to_mel(MEL_MAX_HZ), MEL_BANDS + 2)
    weights = np.empty((n_spectrogram_bins, MEL_BANDS))
    for band in range(MEL_BANDS):
        lower, centre, upper = edges[band : band + 3]
        weights[:, band] = np.maximum(
            0.0, np.minimum((bins_mel - lower) / (centre - lower), (upper - bins_mel) / (upper - centre))
        )
    weights[0, :] = 0.0
    return weights


def log_mel(signal: np.ndarray) -> np.ndarray:
    """(n_frames, 64) log-mel at 100 frames/s for 16 kHz mono audio (frame k starts at k * 10 ms)."""
    window = int(round(WINDOW_S * SAMPLE_RATE))
    hop = int(round(HOP_S * SAMPLE_RATE))
    fft_length = 2 ** int(np.ceil(np.log2(window)))
    signal = np.asarray(signal, dtype=np.float64)
    if len(signal) < window:
        signal = np.pad(signal, (0, window - len(signal)))
    n_frames = 1 + (len(signal) - window) // hop
    frames = np.lib.stride_tricks.sliding_window_view(signal, window)[::hop][:n_frames]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi / window * np.arange(window))  # periodic Hann
    magnitude = np.abs(np.fft.rfft(frames * hann, fft_length))
    return np.log(magnitude @ mel_matrix(fft_length // 2 + 1) + LOG_OFFSET)


def frame_examples(logmel: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """(N, 96, 64): one 0.96 s example centred on each time (edge rows repeated beyond the signal)."""
    half = EXAMPLE_FRAMES // 2
    padded = np.pad(logmel, ((half, half), (0, 0)), mode="edge")
    centres = np.clip(np.round(np.asarray(times_s) / HOP_S).astype(np.int64), 0, len(logmel) - 1)
    return (
        np.stack([padded[c : c + EXAMPLE_FRAMES] for c in centres])
        if len(centres)
        else np.zeros((0, EXAMPLE_FRAMES, MEL_BANDS))
    )


@torch.inference_mode()
def extract(
    model: VGGish, signal: np.ndarray, times_s: np.ndarray, device: torch.device, precision: str, batch_size: int
) -> np.ndarray:
    """128-d embedding per time in `times_s` (the video frames' times)."""
    model = model.to(device)
    logmel = log_mel(signal)
    out = np.zeros((len(times_s), DIM), np.float32)
    for start in range(0, len(times_s), batch_size):
        examples = frame_examples(logmel, times_s[start : start + batch_size])
        batch = (
            torch.from_numpy(examples.astype(np.float32)).clone().unsqueeze(1).to(device)
        )  # torch-owned: alignment-independent results
        with autocast(device, precision):
            out[start : start + len(batch)] = model(batch).float().cpu().numpy()
    return out
