"""Faces from video (paper §3.1): 30 fps frames, MTCNN on every frame, 5-point alignment.

Frames without a detected face are dropped; the indices of the kept frames
(on the 30 fps grid) are stored, so later stages know where the gaps are.
The crop is a similarity transform of the five MTCNN key points onto the
standard 112x112 five-point template (the ArcFace/InsightFace layout), the
usual reading of "crop the face using the key points".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from affrepro.io import write_npz
from affrepro.media import iter_frames

log = logging.getLogger(__name__)

# Five-point template for 112x112 crops: left eye, right eye, nose tip, left and right mouth corners.
TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


@dataclass
class FaceTrack:
    faces: np.ndarray  # uint8 (T, S, S, 3), RGB
    frame_index: np.ndarray  # int64 (T,), index on the `fps` grid
    landmarks: np.ndarray  # float32 (T, 5, 2), in frame pixels
    n_frames: int
    fps: int

    def save(self, path: str | Path) -> None:
        write_npz(
            path,
            faces=self.faces,
            frame_index=self.frame_index,
            landmarks=self.landmarks,
            n_frames=np.int64(self.n_frames),
            fps=np.int64(self.fps),
        )


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src to dst (Umeyama, 1991); 2x3."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1, 1] = -1
    rotation = u @ d @ vt
    scale = np.trace(np.diag(s) @ d) / src_c.var(0).sum()
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align(frame: np.ndarray, points: np.ndarray, size: int) -> np.ndarray:
    matrix = similarity_transform(points.astype(np.float64), TEMPLATE_112 * (size / 112.0))
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def make_detector(mtcnn_params: dict, device: str = "cpu"):
    from facenet_pytorch import MTCNN  # heavy import, only where detection runs

    return MTCNN(
        min_face_size=mtcnn_params["min_face_size"],
        thresholds=list(mtcnn_params["thresholds"]),
        factor=mtcnn_params["factor"],
        select_largest=True,
        device=device,
    )


def detect_faces(video: str | Path, detector, fps: int = 30, size: int = 112) -> FaceTrack:
    """Run MTCNN on every frame of `video` at `fps`; keep the largest face of each frame, aligned."""
    faces, indices, landmarks = [], [], []
    n_frames = 0
    with torch.inference_mode():
        for index, frame in enumerate(iter_frames(video, fps)):
            n_frames += 1
            boxes, _, points = detector.detect(frame, landmarks=True)
            if boxes is None:
                continue
            faces.append(align(frame, points[0], size))
            indices.append(index)
            landmarks.append(points[0])
    return FaceTrack(
        faces=np.stack(faces) if faces else np.zeros((0, size, size, 3), np.uint8),
        frame_index=np.asarray(indices, dtype=np.int64),
        landmarks=np.asarray(landmarks, dtype=np.float32).reshape(-1, 5, 2),
        n_frames=n_frames,
        fps=fps,
    )


def load_faces(path: str | Path) -> FaceTrack:
    with np.load(path) as data:
        missing = {"faces", "frame_index", "landmarks", "n_frames", "fps"} - set(data.files)
        if missing:
            raise ValueError(f"{path}: not a faces file from `affrepro faces` (missing arrays {sorted(missing)}); regenerate it")
        return FaceTrack(
            faces=data["faces"],
            frame_index=data["frame_index"],
            landmarks=data["landmarks"],
            n_frames=int(data["n_frames"]),
            fps=int(data["fps"]),
        )
