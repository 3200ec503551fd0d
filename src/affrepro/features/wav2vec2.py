"""Wav2Vec2 features (paper §3.2.2): last-layer hidden states, dimension from the model.

Paper model: a wav2vec2-large fine-tuned on MSP-Podcast (default hub id
`audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim`, loaded from the local
cache or a local folder; its regression head is not used). `random` builds the
architecture in `extractors.wav2vec2.random_arch`, seeded.

The 50 Hz hidden states are put on the video's 30 fps grid: video frame i takes
the wav2vec2 frame whose 25 ms window is centred closest to the middle of frame i.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import Wav2Vec2Config, Wav2Vec2Model

from affrepro.compute import autocast
from affrepro.features.weights import WeightsSpec, seeded_init

STRIDE = 320  # samples between wav2vec2 frames at 16 kHz (20 ms)
WINDOW = 400  # receptive field of the convolutional encoder (25 ms)


def build(spec: WeightsSpec, random_arch: dict) -> tuple[Wav2Vec2Model, str | None]:
    if spec.kind == "random":
        seeded_init()
        config = Wav2Vec2Config(**random_arch, feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)
        return Wav2Vec2Model(config).eval(), None
    model = Wav2Vec2Model.from_pretrained(spec.value)
    return model.eval(), getattr(model.config, "_commit_hash", None)


def frames_on_video_grid(n_hidden: int, n_frames: int, fps: int, sample_rate: int) -> np.ndarray:
    """Index of the wav2vec2 frame for each of `n_frames` video frames."""
    centres = (np.arange(n_frames) + 0.5) / fps * sample_rate
    return np.clip(np.round((centres - WINDOW / 2) / STRIDE), 0, n_hidden - 1).astype(np.int64)


@torch.inference_mode()
def extract(model: Wav2Vec2Model, signal: np.ndarray, sample_rate: int, device: torch.device, precision: str, chunk_seconds: float, fps: int) -> np.ndarray:
    """(n_frames, D) features for a 16 kHz mono signal; n_frames = whole video frames the audio covers."""
    x = signal.astype(np.float64)
    x = ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)  # Wav2Vec2FeatureExtractor's do_normalize
    if len(x) < WINDOW:
        x = np.pad(x, (0, WINDOW - len(x)))
    model = model.to(device)
    chunk = max(int(chunk_seconds * sample_rate) // STRIDE * STRIDE, WINDOW)
    hidden = []
    for start in range(0, len(x), chunk):
        piece = x[start : start + chunk + WINDOW - STRIDE]  # overlap so chunk boundaries lose no frame
        if len(piece) < WINDOW:
            break
        with autocast(device, precision):
            h = model(torch.from_numpy(piece).clone()[None].to(device)).last_hidden_state[0].float().cpu().numpy()
        hidden.append(h[: chunk // STRIDE])
    hidden = np.concatenate(hidden)
    n_frames = max(int(len(signal) / sample_rate * fps), 1)
    return hidden[frames_on_video_grid(len(hidden), n_frames, fps, sample_rate)]
