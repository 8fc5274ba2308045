"""Face detection: boxes with scores, found on a search copy of the picture scaled for speed and face size.

Two detectors, chosen by name:

- `hog` (built in): dlib's HOG frontal face detector, whose weights ship inside the `dlib-bin` wheel. It finds
  faces about `window` = 80 px across at the scale it searches, and larger ones through its own pyramid.
- a YuNet ONNX file a user registers (`detectors:` in the model catalog), run by OpenCV's `cv2.FaceDetectorYN`.

Detection cost grows with the searched area, so a picture is searched at the scale that makes the smallest
face asked for (`min_face`) as large as the detector's window, but never over `search_pixels`: small pictures
are enlarged (a 40 px face is searched at 2x for HOG), large ones reduced (a 4096x4096 photo is searched at
1024x1024, finding faces from 320 px up, in about a quarter of a second on two cores).
`Detection.smallest_face` says where that limit fell; a larger `search_pixels` finds smaller faces, slower.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
from pydantic import Field

from retouch.errors import EngineError, InputError
from retouch.recipe import Strict

HOG = "hog"


class DetectParams(Strict):
    """How faces are looked for."""

    detector: str = Field(HOG, min_length=1, max_length=100, description="Face detector: `hog` or a registered one.")
    min_face: int = Field(
        40, ge=8, le=4096, description="Smallest face to look for, in picture pixels (side of its box)."
    )
    search_pixels: int = Field(
        1024 * 1024,
        ge=65_536,
        le=64_000_000,
        description="Largest area searched, in pixels: bigger pictures are searched on a reduced copy, which "
        "raises the smallest face found (reported as `smallest_face`).",
    )
    threshold: float = Field(
        0.2, ge=-1, le=1, description="Score a detection must reach (HOG's SVM margin, or YuNet's confidence)."
    )


@dataclass(frozen=True)
class Face:
    """A face's box in picture pixels and the detector's confidence in it."""

    x: int
    y: int
    width: int
    height: int
    score: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.width, self.height

    def as_dict(self) -> dict:
        return {**asdict(self), "score": round(self.score, 4)}


@dataclass(frozen=True)
class Detection:
    faces: list[Face]  # left to right
    scale: float  # search copy side / picture side
    smallest_face: int  # faces below this side (picture pixels) could not be found at this scale


class FaceDetector:
    """Finds faces in an RGB picture at the picture's own scale; `detect_faces` does the scaling."""

    name: ClassVar[str]
    #: side (px) of the smallest face it finds at the scale it is given
    window: ClassVar[int]

    def find(self, rgb: np.ndarray, threshold: float) -> list[Face]:
        raise NotImplementedError


class HogDetector(FaceDetector):
    """dlib's HOG + linear SVM frontal face detector (front, turned left/right, tilted left/right)."""

    name = HOG
    window = 80
    _lock = threading.Lock()
    _model = None  # built once per process on first use (1.6 s), then shared: it holds only its weights

    @classmethod
    def _detector(cls):
        with cls._lock:
            if cls._model is None:
                import dlib

                cls._model = dlib.get_frontal_face_detector()
            return cls._model

    def find(self, rgb: np.ndarray, threshold: float) -> list[Face]:
        gray = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        detector = self._detector()
        with self._lock:  # one search at a time: dlib's scanner is not documented as thread-safe
            boxes, scores, _ = detector.run(np.ascontiguousarray(gray), 0, threshold)
        return [
            Face(box.left(), box.top(), box.width(), box.height(), float(score))
            for box, score in zip(boxes, scores, strict=True)
        ]


class YuNetDetector(FaceDetector):
    """A YuNet ONNX model (e.g. OpenCV Zoo's `face_detection_yunet_2023mar.onnx`) run by `cv2.FaceDetectorYN`."""

    window = 20  # YuNet's published range starts at about 10-20 px faces

    def __init__(self, name: str, path: Path) -> None:
        self.name = name  # type: ignore[misc]
        self.path = path
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self):
        if self._model is None:
            if not self.path.is_file():
                raise InputError(f"face detector {self.name!r}: model file {str(self.path)!r} does not exist")
            try:
                self._model = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320), 0.5, 0.3, 5000)
            except cv2.error as exc:
                raise EngineError(
                    f"face detector {self.name!r}: OpenCV cannot load {str(self.path)!r} as a YuNet ONNX model "
                    f"({_first_line(exc)})"
                ) from None
        return self._model

    def find(self, rgb: np.ndarray, threshold: float) -> list[Face]:
        bgr = cv2.cvtColor(rgb, cv2.COLOR_GRAY2BGR if rgb.ndim == 2 else cv2.COLOR_RGB2BGR)
        with self._lock:
            model = self.load()
            model.setInputSize((bgr.shape[1], bgr.shape[0]))
            model.setScoreThreshold(max(threshold, 0.0))
            try:
                _, rows = model.detect(bgr)
            except cv2.error as exc:
                message = f"face detector {self.name!r} failed on {str(self.path)!r}: {_first_line(exc)}"
                raise EngineError(message) from None
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, w, h = (float(v) for v in row[:4])
            faces.append(Face(round(x), round(y), max(1, round(w)), max(1, round(h)), float(row[-1])))
        return faces


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


DetectorFactory = Callable[[], FaceDetector]

#: Detectors that need no file. Registered YuNet files join from the catalog (`catalog.face_detectors`).
DETECTORS: dict[str, DetectorFactory] = {HOG: HogDetector}


def get_detector(name: str, detectors: Mapping[str, DetectorFactory] | None = None) -> FaceDetector:
    table = DETECTORS if detectors is None else detectors
    try:
        return table[name]()
    except KeyError:
        raise InputError(f"face detector {name!r} is unknown; available: {', '.join(sorted(table))}") from None


def search_scale(size: tuple[int, int], window: int, min_face: int, search_pixels: int) -> float:
    """Scale of the search copy: `min_face` grows (or shrinks) to `window`, within `search_pixels` of area."""
    width, height = size
    wanted = window / min_face
    limit = math.sqrt(search_pixels / (width * height))
    return min(wanted, limit)


def detect_faces(pixels: np.ndarray, params: DetectParams, detector: FaceDetector) -> Detection:
    """The faces in `pixels` (HxWx3/4 uint8), left to right, boxes clipped to the picture."""
    height, width = pixels.shape[:2]
    scale = search_scale((width, height), detector.window, params.min_face, params.search_pixels)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    rgb = pixels[..., :3]
    source = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if isinstance(detector, HogDetector) else rgb
    if size != (width, height):
        shrinking = size[0] < width
        source = cv2.resize(source, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    sx, sy = size[0] / width, size[1] / height
    faces = []
    for found in detector.find(np.ascontiguousarray(source), params.threshold):
        x0 = min(max(0, math.floor(found.x / sx)), width - 1)
        y0 = min(max(0, math.floor(found.y / sy)), height - 1)
        x1 = min(width, max(x0 + 1, math.ceil((found.x + found.width) / sx)))
        y1 = min(height, max(y0 + 1, math.ceil((found.y + found.height) / sy)))
        faces.append(Face(x0, y0, x1 - x0, y1 - y0, found.score))
    faces.sort(key=lambda f: (f.x, f.y))
    return Detection(faces, scale, math.ceil(detector.window / scale))
