"""Faces from video (paper §3.1): 30 fps frames, MTCNN on every frame, 5-point alignment.

Frames without a detected face are dropped; the indices of the kept frames
(on the 30 fps grid) are stored, so later stages know where the gaps are.
The crop is a similarity transform of the five MTCNN key points onto the
standard 112x112 five-point template (the ArcFace/InsightFace layout), the
usual reading of "crop the face using the key points".

Speed (engineering, not from the paper; config `preprocess.mtcnn.tracking`):
a face found in one frame narrows the next frame's image pyramid to MTCNN's
coarser scales (see `Detector`), with the full pyramid whenever that finds
nothing and on a fixed grid of frames, and the max-pooling layers run on
channels-last memory (exact); `benchmarks/faces.py` measures frames/s and the
agreement with MTCNN on every frame.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from affrepro.files import write_npz
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


# How the fast path searches (config `preprocess.mtcnn.tracking`, engineering, not from any paper);
# a config without the block gets these values.
TRACKING_DEFAULTS = {"enabled": True, "margin": 0.5, "full_search_every": 30, "prefetch": 8, "workers": 1}


@dataclass
class Detector:
    """MTCNN (facenet-pytorch) with the pyramid search of `detect_faces`.

    `tracking` off: every frame runs MTCNN's full image pyramid, exactly
    `MTCNN.detect`. On: once a frame has a face of side s, the next frame's
    pyramid starts at the scale for a minimum face of `margin` * s (MTCNN's own
    scales, only the finer ones skipped, so the P-net outputs of the scales run
    are the same numbers); a frame where that finds no face is searched again
    with the full pyramid (the coarse scales reused), and so are every
    `full_search_every`-th frame and a frame after one whose face box crosses
    the frame's edge, so a face that is lost, new or partly out of view is
    searched for as MTCNN would.
    """

    mtcnn: object
    tracking: dict
    fast: object = None  # `mtcnn` with max-pooling run in channels-last memory (same numbers, several times faster)

    @property
    def mode(self) -> str:
        if not self.tracking["enabled"]:
            return "full pyramid every frame (MTCNN.detect)"
        return (
            f"tracked pyramid: min face {self.tracking['margin']} x previous face; full pyramid when none is found, "
            f"after a face cut by the frame's edge and every {self.tracking['full_search_every']} frames; "
            f"{self.tracking.get('workers', 1)} worker(s)"
        )

    def detect(self, frame: np.ndarray, landmarks: bool = True):
        """`MTCNN.detect(frame, landmarks=True)` for one RGB frame (full pyramid)."""
        return self.mtcnn.detect(frame, landmarks=landmarks)


def make_detector(mtcnn_params: dict, device: str = "cpu") -> Detector:
    from facenet_pytorch import MTCNN  # heavy import, only where detection runs

    mtcnn = MTCNN(
        min_face_size=mtcnn_params["min_face_size"],
        thresholds=list(mtcnn_params["thresholds"]),
        factor=mtcnn_params["factor"],
        select_largest=True,
        device=device,
    )
    return Detector(mtcnn, TRACKING_DEFAULTS | dict(mtcnn_params.get("tracking") or {}), fast=fast_pooling(mtcnn))


class ChannelsLastMaxPool(torch.nn.Module):
    """A MaxPool2d computed on channels-last memory, its result in the input's layout.

    PyTorch's CPU max-pooling of planar (NCHW) tensors is 3-30x slower than
    of channels-last ones at MTCNN's sizes; a maximum is exact, so the values
    are the same and every later layer sees the same input.
    """

    def __init__(self, pool: torch.nn.MaxPool2d):
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.pool
        layout = (
            torch.channels_last
            if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
            else torch.contiguous_format
        )
        y = torch.nn.functional.max_pool2d(
            x.contiguous(memory_format=torch.channels_last),
            p.kernel_size,
            p.stride,
            p.padding,
            p.dilation,
            ceil_mode=p.ceil_mode,
        )
        return y.contiguous(memory_format=layout)


def fast_pooling(mtcnn):
    """A copy of `mtcnn` whose P-, R- and O-net max-pooling layers are `ChannelsLastMaxPool`."""
    fast = copy.deepcopy(mtcnn)
    for net in (fast.pnet, fast.rnet, fast.onet):
        for name, module in list(net.named_children()):
            if isinstance(module, torch.nn.MaxPool2d):
                setattr(net, name, ChannelsLastMaxPool(module))
    return fast


def pyramid(h: int, w: int, min_face_size: float, factor: float) -> list[float]:
    """MTCNN's scales for an h x w image, computed as facenet-pytorch's detect_face computes them."""
    m = 12.0 / min_face_size
    minl = min(h, w) * m
    scale, scales = m, []
    while minl >= 12:
        scales.append(scale)
        scale = scale * factor
        minl = minl * factor
    return scales


class _Frame:
    """One frame through MTCNN's three stages, P-net results cached per scale (facenet-pytorch detect_face, batch of 1)."""

    def __init__(self, mtcnn, frame: np.ndarray):
        self.mtcnn = mtcnn
        self.img = torch.as_tensor(np.array(frame), device=mtcnn.device).unsqueeze(0)
        self.img = self.img.permute(0, 3, 1, 2).type(next(mtcnn.pnet.parameters()).dtype)  # channels-last strides
        self.planar = self.img.contiguous()  # area resampling is faster from planar memory, and gives the same numbers
        self.h, self.w = self.img.shape[2:4]
        self.scales = pyramid(self.h, self.w, mtcnn.min_face_size, mtcnn.factor)
        self.pnet_out: dict[int, tuple] = {}

    def _pnet(self, k: int) -> tuple:
        from facenet_pytorch.models.utils.detect_face import generateBoundingBox, imresample
        from torchvision.ops.boxes import batched_nms

        if k not in self.pnet_out:
            scale = self.scales[k]
            im_data = imresample(self.planar, (int(self.h * scale + 1), int(self.w * scale + 1)))
            im_data = im_data.contiguous(
                memory_format=torch.channels_last
            )  # the layout MTCNN's own resampling gives P-net
            im_data = (im_data - 127.5) * 0.0078125
            reg, probs = self.mtcnn.pnet(im_data)
            boxes, inds = generateBoundingBox(reg, probs[:, 1], scale, self.mtcnn.thresholds[0])
            pick = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.5)
            self.pnet_out[k] = (boxes, inds, pick)
        return self.pnet_out[k]

    def _crops(self, boxes, image_inds, size: int) -> torch.Tensor:
        """The boxes cut from the frame and resampled to size x size, normalised (R-net: 24, O-net: 48)."""
        from facenet_pytorch.models.utils.detect_face import imresample, pad

        y, ey, x, ex = pad(boxes, self.w, self.h)
        im_data = []
        for k in range(len(y)):
            if ey[k] > (y[k] - 1) and ex[k] > (x[k] - 1):
                img_k = self.img[image_inds[k], :, (y[k] - 1) : ey[k], (x[k] - 1) : ex[k]].unsqueeze(0)
                im_data.append(imresample(img_k, (size, size)))
        return (torch.cat(im_data, dim=0) - 127.5) * 0.0078125

    def _candidates(self, first: int):
        """P-net's boxes over the pyramid's scales from index `first` on, merged and squared; None if there are none."""
        from facenet_pytorch.models.utils.detect_face import rerec
        from torchvision.ops.boxes import batched_nms

        boxes, image_inds, scale_picks, offset = [], [], [], 0
        for k in range(first, len(self.scales)):
            boxes_scale, inds_scale, pick = self._pnet(k)
            boxes.append(boxes_scale)
            image_inds.append(inds_scale)
            scale_picks.append(pick + offset)
            offset += boxes_scale.shape[0]
        if not boxes:
            return None
        # From here on facenet-pytorch 2.6.0's detect_face, line for line (split into this and the next two methods).
        boxes, image_inds, scale_picks = (
            torch.cat(boxes, dim=0),
            torch.cat(image_inds, dim=0),
            torch.cat(scale_picks, dim=0),
        )
        boxes, image_inds = boxes[scale_picks], image_inds[scale_picks]
        pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
        boxes, image_inds = boxes[pick], image_inds[pick]
        regw = boxes[:, 2] - boxes[:, 0]
        regh = boxes[:, 3] - boxes[:, 1]
        qq1 = boxes[:, 0] + boxes[:, 5] * regw
        qq2 = boxes[:, 1] + boxes[:, 6] * regh
        qq3 = boxes[:, 2] + boxes[:, 7] * regw
        qq4 = boxes[:, 3] + boxes[:, 8] * regh
        boxes = torch.stack([qq1, qq2, qq3, qq4, boxes[:, 4]]).permute(1, 0)
        return rerec(boxes), image_inds

    def _refine(self, boxes, image_inds):
        """R-net's pass over the candidates: the boxes above its threshold, regressed and squared."""
        from facenet_pytorch.models.utils.detect_face import bbreg, fixed_batch_process, rerec
        from torchvision.ops.boxes import batched_nms

        out = fixed_batch_process(self._crops(boxes, image_inds, 24), self.mtcnn.rnet)
        out0, out1 = out[0].permute(1, 0), out[1].permute(1, 0)
        score = out1[1, :]
        ipass = score > self.mtcnn.thresholds[1]
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds = image_inds[ipass]
        mv = out0[:, ipass].permute(1, 0)
        pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
        boxes, image_inds, mv = boxes[pick], image_inds[pick], mv[pick]
        return rerec(bbreg(boxes, mv)), image_inds

    def _output(self, boxes, image_inds):
        """O-net's pass: the final boxes with scores and their five landmarks."""
        from facenet_pytorch.models.utils.detect_face import batched_nms_numpy, bbreg, fixed_batch_process

        out = fixed_batch_process(self._crops(boxes, image_inds, 48), self.mtcnn.onet)
        out0, out1, out2 = out[0].permute(1, 0), out[1].permute(1, 0), out[2].permute(1, 0)
        score = out2[1, :]
        ipass = score > self.mtcnn.thresholds[2]
        points = out1[:, ipass]
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds = image_inds[ipass]
        mv = out0[:, ipass].permute(1, 0)
        w_i = boxes[:, 2] - boxes[:, 0] + 1
        h_i = boxes[:, 3] - boxes[:, 1] + 1
        points_x = w_i.repeat(5, 1) * points[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        points_y = h_i.repeat(5, 1) * points[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((points_x, points_y)).permute(2, 1, 0)
        boxes = bbreg(boxes, mv)
        pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], image_inds, 0.7, "Min")
        return boxes[pick], points[pick]

    @torch.no_grad()
    def detect(self, first: int):
        """(boxes with scores, points) of the faces found with the pyramid's scales from index `first` on."""
        found = self._candidates(first)
        if found is None:
            return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)
        boxes, image_inds = found
        if len(boxes) > 0:
            boxes, image_inds = self._refine(boxes, image_inds)
        points = torch.zeros(0, 5, 2, device=self.img.device)
        if len(boxes) > 0:
            boxes, points = self._output(boxes, image_inds)
        return boxes.cpu().numpy(), points.cpu().numpy()


def largest(boxes: np.ndarray, points: np.ndarray):
    """The largest face's (box, points) as MTCNN(select_largest=True).detect orders them; None without a face."""
    if len(boxes) == 0:
        return None
    order = np.argsort((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))[::-1]
    return np.array(boxes[order[0], :4]), np.array(points[order[0]])


def first_scale(scales: list[float], min_face: float) -> int:
    """Index of the first of `scales` at which a face of side `min_face` is at most 12 px (P-net's window)."""
    target = 12.0 / min_face
    return next((i for i, scale in enumerate(scales) if scale <= target), max(len(scales) - 1, 0))


def iter_prefetched(frames: Iterator[np.ndarray], depth: int) -> Iterator[np.ndarray]:
    """`frames`, read ahead by up to `depth` frames in a thread (ffmpeg decodes while MTCNN runs); same order."""
    if depth <= 0:
        yield from frames
        return
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def read() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        buffer.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as error:  # re-raised in the consumer
            buffer.put(error)
            return
        finally:
            if stop.is_set():
                frames.close()
        buffer.put(done)

    thread = threading.Thread(target=read, name="affrepro-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting on a full queue
            with contextlib.suppress(queue.Empty):
                buffer.get(timeout=0.1)
        thread.join()


def track_frames(frames: Iterable[np.ndarray], detector: Detector) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """(frame, the five points of its largest face or None) for each frame, searched as `Detector` says.

    The full-pyramid frames are fixed (0, N, 2N, ... for full_search_every N,
    plus any frame whose tracked search finds nothing), so each run of N frames
    from a multiple of N is searched the same whatever came before it.
    """
    tracking = detector.tracking
    mtcnn = detector.fast or detector.mtcnn
    every = int(tracking["full_search_every"])
    previous: float | None = None  # side of the last frame's face
    for index, frame in enumerate(frames):
        if not tracking["enabled"]:
            boxes, _, points = detector.mtcnn.detect(frame, landmarks=True)
            yield frame, None if boxes is None else points[0]
            continue
        state = _Frame(mtcnn, frame)
        first = 0
        if previous is not None and index % every != 0:
            first = first_scale(state.scales, max(mtcnn.min_face_size, tracking["margin"] * previous))
        found = largest(*state.detect(first))
        if found is None and first > 0:
            found = largest(*state.detect(0))  # lost: the full pyramid, its coarse scales reused
        if found is None:
            previous = None
            yield frame, None
        else:
            box, points = found
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= state.w and box[3] <= state.h
            # A face cut by the frame's edge gets its points from a box MTCNN extrapolates, which the
            # pyramid's finer scales can move by many pixels: the next frame is searched in full.
            previous = float(min(box[2] - box[0], box[3] - box[1])) if inside else None
            yield frame, points


def track_in_threads(
    frames: Iterable[np.ndarray], detector: Detector, workers: int
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """`track_frames`, its runs of full_search_every frames spread over `workers` threads; the same results, in order.

    Each run starts with a full search, so it does not depend on the run before
    it (see `track_frames`); PyTorch releases the GIL inside its operations.
    """
    every = int(detector.tracking["full_search_every"])

    def run(chunk: list[np.ndarray]) -> list[np.ndarray | None]:
        with torch.inference_mode():
            return [points for _, points in track_frames(chunk, detector)]

    def chunks() -> Iterator[list[np.ndarray]]:
        chunk: list[np.ndarray] = []
        for frame in frames:
            chunk.append(frame)
            if len(chunk) == every:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="affrepro-faces") as pool:
        pending: collections.deque = collections.deque()
        for chunk in chunks():
            pending.append((chunk, pool.submit(run, chunk)))
            while len(pending) > workers:
                done, future = pending.popleft()
                yield from zip(done, future.result())
        while pending:
            done, future = pending.popleft()
            yield from zip(done, future.result())


def detect_faces(video: str | Path, detector: Detector, fps: int = 30, size: int = 112) -> FaceTrack:
    """MTCNN on every frame of `video` at `fps`; keep the largest face of each frame, aligned.

    The pyramid each frame searches is `detector.tracking`'s (see `Detector`);
    decoding runs ahead in a thread.
    """
    faces, indices, landmarks = [], [], []
    n_frames = 0
    frames = iter_prefetched(iter_frames(video, fps), int(detector.tracking.get("prefetch", 0)))
    with torch.inference_mode():
        workers = int(detector.tracking.get("workers", 1))
        tracked = (
            track_in_threads(frames, detector, workers)
            if workers > 1 and detector.tracking["enabled"]
            else track_frames(frames, detector)
        )
        for index, (frame, points) in enumerate(tracked):
            n_frames += 1
            if points is None:
                continue
            faces.append(align(frame, points, size))
            indices.append(index)
            landmarks.append(points)
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
            raise ValueError(
                f"{path}: not a faces file from `affrepro faces` (missing arrays {sorted(missing)}); regenerate it"
            )
        return FaceTrack(
            faces=data["faces"],
            frame_index=data["frame_index"],
            landmarks=data["landmarks"],
            n_frames=int(data["n_frames"]),
            fps=int(data["fps"]),
        )
