"""Group pictures composed from real face photographs, for the face detector and the faces workflow.

Faces come from scikit-image: the astronaut (Eileen Collins, with her shoulders and hair as context) and the
Labeled Faces in the Wild crops of `lfw_subset` (the first 100 of its 200 25x25 pictures are faces, the rest
are not). They are pasted at known places and sizes on face-free photographs (coffee, rocket, chelsea the cat).
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data

Box = tuple[int, int, int, int]

#: the astronaut's face in the 512x512 original, as dlib's HOG detector boxes it
ASTRONAUT_FACE: Box = (176, 77, 91, 90)
#: the crop pasted: the face with 30 px of context (hair, shoulders, background) on every side
_CONTEXT = 30


def astronaut_face(face_side: int) -> tuple[np.ndarray, Box]:
    """The astronaut's face with its context, scaled so the face is `face_side` px; and the face's box in it."""
    x, y, w, h = ASTRONAUT_FACE
    crop = data.astronaut()[y - _CONTEXT : y + h + _CONTEXT, x - _CONTEXT : x + w + _CONTEXT]
    k = face_side / w
    size = (round(crop.shape[1] * k), round(crop.shape[0] * k))
    scaled = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    return scaled, (round(_CONTEXT * k), round(_CONTEXT * k), round(w * k), round(h * k))


def lfw_face(index: int, side: int) -> np.ndarray:
    """`lfw_subset()[index]` (a 25x25 grey picture; 0-99 are faces, 100-199 are not) as side x side RGB."""
    grey = np.rint(data.lfw_subset()[index] * 255).astype(np.uint8)
    grey = cv2.resize(grey, (side, side), interpolation=cv2.INTER_CUBIC)
    return np.stack([grey] * 3, axis=-1)


def paste(picture: np.ndarray, patch: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    x, y = at
    out = picture.copy()
    out[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
    return out


def group(background: np.ndarray, placements: list[tuple[str, int, tuple[int, int]]]) -> tuple[np.ndarray, list[Box]]:
    """`background` with faces pasted: each placement is (`astronaut` or `lfw:N`, face side, top-left of the
    pasted picture). Returns the picture and each face's box in it."""
    picture, boxes = background.copy(), []
    for source, side, (x, y) in placements:
        if source == "astronaut":
            patch, (fx, fy, fw, fh) = astronaut_face(side)
        else:
            patch, (fx, fy, fw, fh) = lfw_face(int(source.split(":")[1]), side), (0, 0, side, side)
        picture = paste(picture, patch, (x, y))
        boxes.append((x + fx, y + fy, fw, fh))
    return picture, boxes


def rocket_group() -> tuple[np.ndarray, list[Box]]:
    """skimage's rocket (640x427) with four faces of 40 to 96 px: the astronaut twice and two LFW faces."""
    return group(
        data.rocket(),
        [
            ("astronaut", 40, (20, 40)),
            ("lfw:3", 56, (150, 300)),
            ("astronaut", 96, (420, 200)),
            ("lfw:10", 72, (300, 60)),
        ],
    )


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)
