"""The faces workflow with tiny random diffusion models: each face redrawn at the model's size, the rest exact."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from retouch.detect.faces import DETECTORS
from retouch.engines import Hooks
from retouch.errors import Cancelled, InputError
from retouch.imaging.faces import changed_area, face_mask, face_region
from retouch.imaging.io import Picture, read_recipe
from retouch.workflows import Source, faces
from retouch.workflows.faces import FaceBox, FaceParams
from tests.diffusion_fixtures import TINY_NATIVE
from tests.faces_scenes import group, iou

MODEL = "tiny-sd-inpaint"


class Watched:
    """A loaded engine whose fills are recorded (what each face's fill was given) before it runs them."""

    def __init__(self, engine, after_fill=None) -> None:
        self.engine = engine
        self.calls: list[dict] = []
        self.after_fill = after_fill

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def fill(self, image, mask, params, seed, hooks):
        self.calls.append({"size": (image.shape[1], image.shape[0]), "prompt": params.prompt, "seed": seed})
        out = self.engine.fill(image, mask, params, seed, hooks)
        if self.after_fill:
            self.after_fill()
        return out


@pytest.fixture(scope="module")
def two_faces() -> tuple[Picture, list[tuple[int, int, int, int]]]:
    """Chelsea the cat's photo (451x300) with the astronaut's face pasted at 48 and 64 px."""
    pixels, boxes = group(data.chelsea(), [("astronaut", 48, (20, 20)), ("astronaut", 64, (330, 150))])
    return Picture(pixels=pixels), boxes


def params(**extra) -> FaceParams:
    values = {"engine": MODEL, "steps": 5, "strength": 0.5, "seed": 11, "prompt": "a portrait", "feather": 4}
    values.update(extra)
    return FaceParams(**values)


def run(picture, p, engine, hooks=None):
    return faces.run(picture, None, p, Source(lambda name: engine, DETECTORS), hooks or Hooks())


def untouched(picture: Picture, result_recipe: dict, p: FaceParams) -> np.ndarray:
    """Pixels no face's grown mask or feather band reaches, recomputed from the recipe's boxes."""
    size = picture.size
    masks = []
    for entry in result_recipe["faces"]:
        box = tuple(entry["box"][k] for k in ("x", "y", "width", "height"))
        region = face_region(box, size, p.padding)
        masks.append((region, face_mask(region, box, p.mask_shape, p.grow)))
    return ~changed_area(size, masks, p.feather)


def test_auto_fixes_each_found_face_at_native_size_and_keeps_every_other_pixel(two_faces, loaded_engines):
    picture, boxes = two_faces
    engine = Watched(loaded_engines(MODEL))
    p = params()
    before = picture.pixels.copy()
    result = run(picture, p, engine)
    assert np.array_equal(picture.pixels, before)  # the input is left as it was

    found = result.recipe["faces"]
    assert len(found) == 2
    for entry, box in zip(found, boxes, strict=True):
        assert iou(tuple(entry["box"].values()), box) > 0.5
        assert min(entry["working_size"].values()) >= TINY_NATIVE
    assert [min(call["size"]) for call in engine.calls] == [TINY_NATIVE, TINY_NATIVE]

    keep = untouched(picture, result.recipe, p)
    assert keep.mean() > 0.9
    assert np.array_equal(result.pixels[keep], picture.pixels[keep])
    for entry in found:
        x, y, w, h = entry["box"].values()
        centre = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
        assert np.abs(result.pixels[centre].astype(int) - picture.pixels[centre]).mean() > 2
    assert result.report["faces"][0]["score"] > 0


def test_recipe_lists_each_face_with_its_box_working_size_prompt_and_seed(two_faces, loaded_engines):
    picture, _ = two_faces
    result = run(picture, params(), loaded_engines(MODEL))
    recipe = read_recipe(result.png())
    assert recipe["kind"] == "faces" and recipe["detected"] is True and recipe["seed"] == 11
    assert [(f["prompt"], f["seed"]) for f in recipe["faces"]] == [("a portrait", 11), ("a portrait", 12)]
    assert all(set(f) >= {"box", "region", "working_size", "score", "steps"} for f in recipe["faces"])


def test_same_seed_same_pixels_other_seed_other_faces(two_faces, loaded_engines):
    picture, boxes = two_faces
    engine = loaded_engines(MODEL)
    given = [FaceBox(x=x, y=y, width=w, height=h) for x, y, w, h in boxes]
    first = run(picture, params(faces=given), engine)
    again = run(picture, params(faces=given), engine)
    other = run(picture, params(faces=given, seed=12345), engine)
    assert first.png() == again.png()
    assert not np.array_equal(first.pixels, other.pixels)


def test_each_face_gets_its_own_prompt_or_the_jobs(two_faces, loaded_engines):
    picture, boxes = two_faces
    engine = Watched(loaded_engines(MODEL))
    given = [
        FaceBox(x=boxes[0][0], y=boxes[0][1], width=boxes[0][2], height=boxes[0][3], prompt="a smiling astronaut"),
        FaceBox(x=boxes[1][0], y=boxes[1][1], width=boxes[1][2], height=boxes[1][3]),
    ]
    result = run(picture, params(faces=given), engine)
    assert [call["prompt"] for call in engine.calls] == ["a smiling astronaut", "a portrait"]
    assert [f["prompt"] for f in result.recipe["faces"]] == ["a smiling astronaut", "a portrait"]
    assert result.recipe["detected"] is False


def test_progress_runs_over_the_whole_job_face_by_face(two_faces, loaded_engines):
    picture, _ = two_faces
    seen: list[tuple[int, int, str]] = []
    hooks = Hooks(on_step=lambda step, total, preview, stage: seen.append((step, total, stage)))
    run(picture, params(), loaded_engines(MODEL), hooks)
    # 5 steps at strength 0.5 is 2 denoising steps per face: 4 steps over the job
    assert [(step, total) for step, total, _ in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [stage for _, _, stage in seen] == [
        "face 1 of 2, step 1 of 2",
        "face 1 of 2, step 2 of 2",
        "face 2 of 2, step 1 of 2",
        "face 2 of 2, step 2 of 2",
    ]


def test_cancel_between_faces_stops_before_the_next_face(two_faces, loaded_engines):
    picture, _ = two_faces
    cancelled = []
    engine = Watched(loaded_engines(MODEL), after_fill=lambda: cancelled.append(True))
    with pytest.raises(Cancelled):
        run(picture, params(), engine, Hooks(is_cancelled=lambda: bool(cancelled)))
    assert len(engine.calls) == 1


def test_cancel_within_a_face_stops_its_fill(two_faces, loaded_engines):
    picture, _ = two_faces
    seen = []
    engine = Watched(loaded_engines(MODEL))
    hooks = Hooks(on_step=lambda *args: seen.append(args), is_cancelled=lambda: len(seen) >= 3)
    with pytest.raises(Cancelled):
        run(picture, params(), engine, hooks)
    assert len(engine.calls) == 2 and len(seen) == 3  # stopped at the second face's first step


def test_transparency_is_kept(two_faces, loaded_engines):
    picture, _ = two_faces
    alpha = np.full(picture.pixels.shape[:2], 255, np.uint8)
    alpha[:, :100] = 0  # part of the first face's crop is transparent: it stays so
    rgba = Picture(pixels=np.dstack([picture.pixels, alpha]))
    result = run(rgba, params(faces=[FaceBox(x=33, y=33, width=48, height=48)]), loaded_engines(MODEL))
    assert np.array_equal(result.pixels[..., 3], alpha)


def test_no_face_found_fails_the_job_with_no_faces_found(loaded_engines):
    with pytest.raises(InputError, match=r"^no faces found"):
        run(Picture(pixels=data.coffee()), params(), loaded_engines(MODEL))


# ------------------------------------------------------------------------------------------ refused before queueing


@pytest.fixture(scope="module")
def engines_table(tiny_catalog):
    from retouch.registry import build_registry

    return build_registry(tiny_catalog)


def check(p: FaceParams, engines_table, size=(200, 100)):
    faces.check(Picture(pixels=np.zeros((size[1], size[0], 3), np.uint8)), None, p, engines_table)


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((190, 10, 20, 20), r"faces\[0\]: box 190,10,20,20 reaches outside the 200x100 image"),
        ((10, 10, 4, 30), r"faces\[0\]: box 10,10,4,30 is smaller than 8x8 pixels"),
    ],
)
def test_bad_boxes_are_refused_naming_the_box(engines_table, box, message):
    x, y, w, h = box
    with pytest.raises(InputError, match=message):
        check(params(faces=[FaceBox(x=x, y=y, width=w, height=h)]), engines_table)


def test_a_classical_engine_is_refused_naming_the_kinds_that_can(engines_table):
    with pytest.raises(InputError) as error:
        check(params(engine="telea"), engines_table)
    message = error.value.message
    assert "'telea' cannot fix faces" in message
    assert "diffusion models (sd-inpaint, sd, sdxl-inpaint, sdxl, flux-fill" in message and MODEL in message
    assert "face restorers (GFPGAN, RestoreFormer, CodeFormer)" in message


def test_engine_or_restorer_is_required_and_must_exist(engines_table):
    with pytest.raises(InputError, match="give a diffusion model"):
        check(FaceParams(), engines_table)
    with pytest.raises(InputError, match=r"engine 'nope' is unknown; available: .*tiny-sd-inpaint"):
        check(params(engine="nope"), engines_table)
    with pytest.raises(InputError, match=r"restorer: 'tiny-sd' is not a face restorer"):
        check(params(restorer="tiny-sd"), engines_table)


def test_a_good_request_passes_the_check(engines_table):
    check(params(faces=[FaceBox(x=10, y=10, width=40, height=40)]), engines_table)
    check(params(scheduler="Euler a"), engines_table)


def test_an_empty_list_of_boxes_and_an_unknown_detector_are_refused(engines_table):
    with pytest.raises(InputError, match="faces: the list of boxes is empty"):
        check(params(faces=[]), engines_table)
    with pytest.raises(InputError, match="face detector 'yunet' is unknown; available: hog"):
        check(params(detect={"detector": "yunet"}), engines_table)


# ------------------------------------------------------------------------------------------ face restorers (spandrel)


def test_a_restorer_alone_fixes_each_face_and_keeps_every_other_pixel(two_faces, spandrel_loaded):
    picture, boxes = two_faces
    restorer = spandrel_loaded("restoreformer")
    given = [FaceBox(x=x, y=y, width=w, height=h) for x, y, w, h in boxes]
    p = FaceParams(faces=given, restorer="restoreformer", restorer_weight=1.0, seed=3)
    result = faces.run(picture, None, p, Source(lambda name: restorer, DETECTORS), Hooks())
    keep = untouched(picture, result.recipe, p)
    assert np.array_equal(result.pixels[keep], picture.pixels[keep])
    x, y, w, h = boxes[0]
    assert np.abs(result.pixels[y : y + h, x : x + w].astype(int) - picture.pixels[y : y + h, x : x + w]).mean() > 1
    again = faces.run(picture, None, p, Source(lambda name: restorer, DETECTORS), Hooks())
    assert np.array_equal(result.pixels, again.pixels)


def test_restore_then_a_light_diffusion_pass(two_faces, spandrel_loaded, loaded_engines):
    picture, boxes = two_faces
    models = {"restoreformer": spandrel_loaded("restoreformer"), MODEL: Watched(loaded_engines(MODEL))}
    given = [FaceBox(x=x, y=y, width=w, height=h) for x, y, w, h in boxes]
    p = params(faces=given, restorer="restoreformer")
    result = faces.run(picture, None, p, Source(models.__getitem__, DETECTORS), Hooks())
    assert len(models[MODEL].calls) == 2
    keep = untouched(picture, result.recipe, p)
    assert np.array_equal(result.pixels[keep], picture.pixels[keep])
    assert faces.label(p) == f"restoreformer + {MODEL}"


def test_the_restorer_must_be_a_face_restorer(spandrel_catalog):
    from retouch.registry import build_registry

    table = build_registry(spandrel_catalog)
    faces.check(Picture(pixels=np.zeros((100, 200, 3), np.uint8)), None, FaceParams(restorer="faces"), table)
    with pytest.raises(InputError, match=r"restorer: 'lama' is not a face restorer.*here: faces\)"):
        faces.check(Picture(pixels=np.zeros((100, 200, 3), np.uint8)), None, FaceParams(restorer="lama"), table)
