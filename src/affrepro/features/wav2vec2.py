"""Wav2Vec2 features (paper §3.2.2): one hidden layer on the 30 fps video grid, dimension from the checkpoint.

Paper model: a wav2vec2-large fine-tuned on MSP-Podcast (default hub id
`audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim`, loaded from the local
cache or a local folder; its regression head is not used). `random` builds the
architecture in `extractors.wav2vec2.random_arch`, seeded. The feature width is
the checkpoint's `hidden_size` (1024 for that model; the paper's "768" is the
width of the *base* wav2vec2 models, see papers/emi.yaml: choices).

`layer`: `last` is the model's output (`last_hidden_state`, what the paper calls
the final layer); an integer i is `hidden_states[i]` of `output_hidden_states`
(0 = the input of the first Transformer layer; on stable-layer-norm checkpoints,
such as the paper's, index num_hidden_layers is the last layer before the final
layer norm, so it differs from `last`).

`pooling` puts the 50 Hz hidden states on the video's 30 fps grid:
  frame  video frame i takes the wav2vec2 frame whose 25 ms window is centred
         closest to the middle of frame i (some 50 Hz states are skipped);
  mean   video frame i takes the mean of the wav2vec2 frames whose window centre
         lies in [i / fps, (i + 1) / fps) (1 or 2 at 30 fps; the nearest one if
         none), so every 50 Hz state is averaged into exactly one video frame;
  clip   every video frame takes the mean over the whole clip (the model card's
         "pooled states of the last transformer layer").
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import Wav2Vec2Config, Wav2Vec2Model

from affrepro.compute import autocast
from affrepro.features.weights import WeightsSpec, seeded_init
from affrepro.features.widths import (
    LAST,
    check_layer,
)  # the width itself: widths.wav2vec2 (read while planning, without torch)

STRIDE = 320  # samples between wav2vec2 frames at 16 kHz (20 ms)
WINDOW = 400  # receptive field of the convolutional encoder (25 ms)
POOLINGS = ("frame", "mean", "clip")


def random_config(random_arch: dict) -> Wav2Vec2Config:
    return Wav2Vec2Config(**random_arch, feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)


def build(spec: WeightsSpec, random_arch: dict) -> tuple[Wav2Vec2Model, str | None]:
    if spec.kind == "random":
        seeded_init()
        return Wav2Vec2Model(random_config(random_arch)).eval(), None
    model = Wav2Vec2Model.from_pretrained(spec.value)
    return model.eval(), getattr(model.config, "_commit_hash", None)


def frames_on_video_grid(n_hidden: int, n_frames: int, fps: int, sample_rate: int) -> np.ndarray:
    """Index of the wav2vec2 frame for each of `n_frames` video frames."""
    centres = (np.arange(n_frames) + 0.5) / fps * sample_rate
    return np.clip(np.round((centres - WINDOW / 2) / STRIDE), 0, n_hidden - 1).astype(np.int64)


def frame_spans(n_hidden: int, n_frames: int, fps: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Per video frame, the wav2vec2 frames [lo, hi) whose window centre lies in the video frame (the nearest one if none)."""
    edges = np.arange(n_frames + 1) * sample_rate / fps
    bounds = np.clip(np.ceil((edges - WINDOW / 2) / STRIDE), 0, n_hidden).astype(np.int64)
    lo, hi = bounds[:-1], bounds[1:]
    nearest = frames_on_video_grid(n_hidden, n_frames, fps, sample_rate)
    empty = hi <= lo
    return np.where(empty, nearest, lo), np.where(empty, nearest + 1, hi)


def pool(hidden: np.ndarray, n_frames: int, fps: int, sample_rate: int, pooling: str) -> np.ndarray:
    """(n_frames, D) from the (n_hidden, D) 50 Hz states (see the module docstring)."""
    if pooling == "frame":
        return hidden[frames_on_video_grid(len(hidden), n_frames, fps, sample_rate)]
    if pooling == "clip":
        return np.repeat(hidden.mean(axis=0, dtype=np.float64, keepdims=True), n_frames, axis=0).astype(np.float32)
    if pooling != "mean":
        raise ValueError(f"extractors.wav2vec2.pooling: {pooling!r} is not one of {', '.join(POOLINGS)}")
    lo, hi = frame_spans(len(hidden), n_frames, fps, sample_rate)
    sums = np.concatenate([np.zeros((1, hidden.shape[1])), np.cumsum(hidden, axis=0, dtype=np.float64)])
    return ((sums[hi] - sums[lo]) / (hi - lo)[:, None]).astype(np.float32)


def forward(model: Wav2Vec2Model, piece: torch.Tensor, layer: str | int) -> torch.Tensor:
    """The chosen layer's states (T', D) for one batch-of-one input."""
    if layer == LAST:
        return model(piece).last_hidden_state[0]
    check_layer(layer, model.config.num_hidden_layers)
    return model(piece, output_hidden_states=True).hidden_states[layer][0]


@torch.inference_mode()
def hidden_states(
    model: Wav2Vec2Model, signal: np.ndarray, sample_rate: int, device: torch.device, precision: str, settings: dict
) -> np.ndarray:
    """(n_hidden, D) states of `settings["layer"]` at 50 Hz, encoded in chunks of `settings["chunk_seconds"]`."""
    x = signal.astype(np.float64)
    x = ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)  # Wav2Vec2FeatureExtractor's do_normalize
    if len(x) < WINDOW:
        x = np.pad(x, (0, WINDOW - len(x)))
    model = model.to(device)
    chunk = max(int(settings["chunk_seconds"] * sample_rate) // STRIDE * STRIDE, WINDOW)
    hidden = []
    for start in range(0, len(x), chunk):
        piece = x[start : start + chunk + WINDOW - STRIDE]  # overlap so chunk boundaries lose no frame
        if len(piece) < WINDOW:
            break
        with autocast(device, precision):
            h = (
                forward(model, torch.from_numpy(piece).clone()[None].to(device), settings["layer"])
                .float()
                .cpu()
                .numpy()
            )
        hidden.append(h[: chunk // STRIDE])
    return np.concatenate(hidden)


def extract(
    model: Wav2Vec2Model,
    signal: np.ndarray,
    sample_rate: int,
    device: torch.device,
    precision: str,
    fps: int,
    settings: dict,
) -> np.ndarray:
    """(n_frames, D) features for a 16 kHz mono signal; n_frames = whole video frames the audio covers.

    settings: the extractors.wav2vec2 block (chunk_seconds, layer, pooling).
    """
    hidden = hidden_states(model, signal, sample_rate, device, precision, settings)
    n_frames = max(int(len(signal) / sample_rate * fps), 1)
    return pool(hidden, n_frames, fps, sample_rate, settings["pooling"])
