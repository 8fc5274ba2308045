"""`faces`: find the faces in a photo (or take the user's boxes) and fix each one, as ADetailer does.

Per face, one after another (each result is the next face's input): crop the face with `padding` of context,
mask it (an ellipse inscribed in its box, or the box, grown by `grow`), optionally run a face restorer on the
crop, then a `retouch.pipeline.fill` of the crop with a diffusion model at `strength`, scaled so the crop's
shorter side is the model's native size (a 60 px face is redrawn at 512 or 1024 px), and paste the crop
back. Only the faces' masks and their `feather` bands can change: every other pixel stays bit-for-bit the
input (alpha is never touched). The PNG recipe lists each face's box, working size, prompt and seed.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np
from pydantic import Field, field_validator

from retouch import __version__
from retouch.catalog import FAMILIES
from retouch.detect.faces import DetectParams, Face, detect_faces, get_detector
from retouch.engines import Engine, Hooks
from retouch.errors import InputError
from retouch.imaging import composite as comp
from retouch.imaging.faces import MaskShape, face_mask, face_region, working_size
from retouch.imaging.io import Picture
from retouch.imaging.region import Box, crop
from retouch.pipeline import fill, resolve_seed, with_engine_defaults
from retouch.recipe import MAX_SIDE, SCHEDULERS, SEED_MAX, FillParams, Scale, Scheduler, Strict
from retouch.registry import Registry, get_engine
from retouch.workflows.base import Engines, EngineSource, MaskInput, WorkflowResult

kind = "faces"
summary = "Fix the faces of a picture: each found (or given) face restored and/or redrawn at the model's size."
mask_input: MaskInput | None = None
MIN_FACE = 8  # a box smaller than this on either side is not a face anyone can fix
MAX_FACES = 64
DEFAULT_NATIVE = 512  # for a model that names no native size
RESTORER_KINDS = "face restorers (GFPGAN, RestoreFormer, CodeFormer)"


class FaceBox(Strict):
    """A face to fix, in picture pixels, with an optional prompt of its own."""

    x: int = Field(ge=0, le=MAX_SIDE * 4, description="Left edge in pixels.")
    y: int = Field(ge=0, le=MAX_SIDE * 4, description="Top edge in pixels.")
    width: int = Field(ge=1, le=MAX_SIDE * 4, description="Width in pixels.")
    height: int = Field(ge=1, le=MAX_SIDE * 4, description="Height in pixels.")
    prompt: str | None = Field(None, max_length=4000, description="This face's prompt; null = the job's prompt.")

    def as_tuple(self) -> Box:
        return self.x, self.y, self.width, self.height


class FaceParams(Strict):
    """Fix the faces of a picture: restore and/or redraw each at the model's native size, paste back exactly."""

    faces: Literal["auto"] | list[FaceBox] = Field(
        "auto", description="`auto` = the faces the detector finds; or the boxes to fix (e.g. the user's corrections)."
    )
    engine: str | None = Field(
        None, min_length=1, max_length=200, description="Diffusion model that redraws each face (a light pass)."
    )
    restorer: str | None = Field(
        None, min_length=1, max_length=200, description="Face restorer run on each face first (GFPGAN, CodeFormer)."
    )
    restorer_weight: float = Field(
        0.5, ge=0, le=1, description="How much of the restorer's face is kept: 0 = the original, 1 = the restorer's."
    )
    strength: float = Field(0.4, ge=0, le=1, description="How much the diffusion model may change each face.")
    padding: int = Field(32, ge=0, le=1024, description="Context around each face's box in its crop, in pixels.")
    mask_shape: MaskShape = Field("ellipse", description="Face mask: the ellipse inscribed in the box, or the box.")
    grow: int = Field(4, ge=0, le=256, description="Grow each face's mask by this many pixels.")
    feather: int = Field(8, ge=0, le=256, description="Blur radius in pixels of each mask's edge when pasting back.")
    prompt: str = Field("", max_length=4000, description="What each face should look like (diffusion models).")
    negative_prompt: str = Field("", max_length=4000, description="What to avoid (diffusion models).")
    steps: int | None = Field(None, ge=1, le=200, description="Denoising steps; null = the model's default.")
    guidance: float | None = Field(None, ge=0, le=50, description="Guidance scale; null = the model's default.")
    scheduler: Scheduler = Field(
        None, max_length=64, description="Sampler: " + ", ".join(SCHEDULERS) + "; null = the model's default."
    )
    seed: int = Field(
        -1, ge=-1, le=SEED_MAX, description="Seed of the first face (face i uses seed + i); -1 picks one."
    )
    detect: DetectParams = Field(default_factory=DetectParams, description="How faces are found for `auto`.")

    @field_validator("faces")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_FACES:
            raise ValueError(f"at most {MAX_FACES} faces per job, got {len(value)}")
        return value


Params = FaceParams


def engine_names(params: FaceParams) -> list[str]:
    return [name for name in (params.engine, params.restorer) if name]


def label(params: FaceParams) -> str:
    return " + ".join(reversed(engine_names(params)))


def can_redraw(engine: Engine) -> bool:
    """A model that redraws a masked area at partial strength (the diffusion models)."""
    return "strength" in engine.parameters


def can_restore(engine: Engine) -> bool:
    return callable(getattr(engine, "restore", None))


def _kinds(engines: Engines) -> str:
    built = {name: factory() for name, factory in engines.items()}
    redraw = sorted(name for name, engine in built.items() if can_redraw(engine))
    restore = sorted(name for name, engine in built.items() if can_restore(engine))
    return (
        f"diffusion models ({', '.join(FAMILIES)}; here: {', '.join(redraw) or 'none in the catalog'}) and "
        f"{RESTORER_KINDS} (here: {', '.join(restore) or 'none'})"
    )


def fill_params(params: FaceParams, prompt: str, seed: int, work: tuple[int, int]) -> FillParams:
    """The fill of one face's crop: the whole crop is the box, at `work` size, under the face's mask."""
    given = {
        key: getattr(params, key) for key in ("steps", "guidance", "scheduler") if getattr(params, key) is not None
    }
    assert params.engine is not None
    return FillParams(
        engine=params.engine,
        bbox=None,
        scale=Scale(mode="manual", width=work[0], height=work[1]),
        grow=0,
        feather=params.feather,
        seed=seed,
        prompt=prompt,
        negative_prompt=params.negative_prompt,
        strength=params.strength,
        **given,
    )


def check_boxes(boxes: list[FaceBox], size: tuple[int, int]) -> None:
    width, height = size
    for i, face in enumerate(boxes):
        x, y, w, h = face.as_tuple()
        if w < MIN_FACE or h < MIN_FACE:
            raise InputError(f"faces[{i}]: box {x},{y},{w},{h} is smaller than {MIN_FACE}x{MIN_FACE} pixels")
        if x + w > width or y + h > height:
            raise InputError(
                f"faces[{i}]: box {x},{y},{w},{h} reaches outside the {width}x{height} image "
                f"(x + width must be <= {width} and y + height <= {height})"
            )


def check(picture: Picture, mask: np.ndarray | None, params: FaceParams, engines: Registry) -> None:
    if not params.engine and not params.restorer:
        raise InputError(
            "engine: give a diffusion model (`engine`), a face restorer (`restorer`), or both; "
            f"faces are fixed by {_kinds(engines)}"
        )
    if params.engine:
        engine = get_engine(params.engine, engines)
        if not can_redraw(engine):
            raise InputError(f"engine: {params.engine!r} cannot fix faces; faces are fixed by {_kinds(engines)}")
        engine.check(with_engine_defaults(fill_params(params, params.prompt, 0, (64, 64)), engine))
    if params.restorer:
        restorer = get_engine(params.restorer, engines)
        if not can_restore(restorer):
            raise InputError(
                f"restorer: {params.restorer!r} is not a face restorer; faces are fixed by {_kinds(engines)}"
            )
    if params.faces == "auto":
        get_detector(params.detect.detector, engines.detectors)
    elif not params.faces:
        raise InputError("faces: the list of boxes is empty; give at least one box, or `auto`")
    else:
        check_boxes(params.faces, picture.size)


def find(picture: Picture, params: FaceParams, engines: EngineSource) -> list[tuple[FaceBox, float | None]]:
    """The faces to fix, with the detector's score where it found them."""
    if params.faces != "auto":
        return [(face, None) for face in params.faces]
    detector = get_detector(params.detect.detector, engines.detectors)
    detection = detect_faces(picture.pixels, params.detect, detector)
    if not detection.faces:
        raise InputError(
            f"no faces found (faces of {detection.smallest_face} px and larger were searched for); "
            "give the boxes in `faces`, or search further with a larger detect.search_pixels"
        )
    return [(_box(face), face.score) for face in detection.faces]


def _box(face: Face) -> FaceBox:
    return FaceBox(x=face.x, y=face.y, width=face.width, height=face.height)


def native_size(engine: Engine | None, restorer: Engine | None) -> tuple[int, int]:
    """(side, grid) a face's crop is worked at: the diffusion model's native size, else the restorer's."""
    model = engine if engine is not None else restorer
    assert model is not None
    return model.native_size or DEFAULT_NATIVE, model.grid


def _restore(restorer: Any, region: np.ndarray, mask: np.ndarray, params: FaceParams, seed: int) -> np.ndarray:
    """The restorer on the crop (made square by mirroring its edge where the picture's border cut it; the
    restorer scales it to its native size and back), pasted back under the face's feathered mask."""
    height, width = region.shape[:2]
    side = max(width, height)
    top, left = (side - height) // 2, (side - width) // 2
    square = cv2.copyMakeBorder(region, top, side - height - top, left, side - width - left, cv2.BORDER_REFLECT_101)
    restored = restorer.restore(square, params.restorer_weight, seed=seed)[top : top + height, left : left + width]
    return comp.composite(region, restored, mask, params.feather)


def fix_face(
    rgb: np.ndarray,
    face: FaceBox,
    params: FaceParams,
    seed: int,
    engine: Engine | None,
    restorer: Engine | None,
    hooks: Hooks,
) -> dict[str, Any]:
    """Fix one face of `rgb` (HxWx3, changed in place inside the face's region); what was done, for the recipe."""
    box = face.as_tuple()
    region = face_region(box, (rgb.shape[1], rgb.shape[0]), params.padding)
    area = face_mask(region, box, params.mask_shape, params.grow)
    x, y, w, h = region
    native, grid = native_size(engine, restorer)
    work = working_size((w, h), native, grid)
    entry: dict[str, Any] = {
        "box": {"x": box[0], "y": box[1], "width": box[2], "height": box[3]},
        "region": {"x": x, "y": y, "width": w, "height": h},
        "working_size": {"width": work[0], "height": work[1]},
        "seed": seed,
    }
    pixels = crop(rgb, region).copy()
    if restorer is not None:
        pixels = _restore(restorer, pixels, area, params, seed)
        if engine is None:
            hooks.step(1, 1)
    if engine is not None:
        prompt = face.prompt if face.prompt is not None else params.prompt
        result = fill(pixels, area, fill_params(params, prompt, seed, work), engine=engine, hooks=hooks)
        pixels = result.pixels
        entry.update(prompt=prompt, steps=result.recipe.get("steps"), guidance=result.recipe.get("guidance"))
    rgb[y : y + h, x : x + w] = pixels
    return entry


def run(
    picture: Picture, mask: np.ndarray | None, params: FaceParams, engines: EngineSource, hooks: Hooks
) -> WorkflowResult:
    found = find(picture, params, engines)
    check_boxes([face for face, _ in found], picture.size)
    engine = engines(params.engine) if params.engine else None
    restorer = engines(params.restorer) if params.restorer else None
    seed = resolve_seed(params.seed)
    rgb = picture.pixels[..., :3].copy()  # the input is never written to; alpha is kept as it is
    done: list[dict[str, Any]] = []
    for i, (face, score) in enumerate(found):
        hooks.check()
        part = hooks.part(i, len(found), f"face {i + 1} of {len(found)}")
        entry = fix_face(rgb, face, params, (seed + i) % (SEED_MAX + 1), engine, restorer, part)
        done.append(entry if score is None else {**entry, "score": round(score, 4)})
    hooks.check()
    out = picture.pixels.copy()
    out[..., :3] = rgb
    recipe = {
        "kind": kind,
        **params.model_dump(mode="json"),
        "seed": seed,
        "detected": params.faces == "auto",
        "faces": done,
        "width": picture.size[0],
        "height": picture.size[1],
        "engine_version": "; ".join(e.version() for e in (engine, restorer) if e is not None),
        "version": __version__,
    }
    report = {"faces": [{**entry["box"], **({"score": entry["score"]} if "score" in entry else {})} for entry in done]}
    return WorkflowResult(out, recipe, seed, report, picture.exif, picture.icc_profile)
