"""The whole path of a fill, as the command line and the server run it."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageCms

from retouch import __version__
from retouch.engines import Hooks
from retouch.engines.classical import Telea
from retouch.errors import Cancelled, InputError
from retouch.imaging.io import load_picture, read_recipe
from retouch.pipeline import fill, fill_mask
from retouch.recipe import BBox, FillParams
from tests.support import encode


def test_fills_the_hole_and_keeps_the_rest(astronaut, centre_mask):
    result = fill(astronaut, centre_mask, FillParams(engine="telea", feather=0, seed=2))
    assert result.pixels.shape == astronaut.shape
    hole = centre_mask > 0
    np.testing.assert_array_equal(result.pixels[~hole], astronaut[~hole])
    assert (result.pixels[hole] != astronaut[hole]).any()
    assert result.bbox == (0, 0, 128, 128)
    assert result.seed == 2


def test_auto_box_works_around_the_mask_only(astronaut, centre_mask):
    result = fill(astronaut, centre_mask, FillParams(engine="telea", bbox="auto", padding=8, seed=1))
    assert result.bbox == (40, 40, 48, 48)
    assert result.working_size == (48, 48)
    outside = np.ones((128, 128), bool)
    outside[40:88, 40:88] = False
    np.testing.assert_array_equal(result.pixels[outside], astronaut[outside])


def test_given_box_limits_the_fill(astronaut):
    mask = np.zeros((128, 128), np.uint8)
    mask[10:20, 10:20] = 255  # outside the box: ignored
    mask[70:80, 70:80] = 255
    result = fill(astronaut, mask, FillParams(engine="telea", bbox=BBox(x=60, y=60, width=40, height=40)))
    np.testing.assert_array_equal(result.pixels[:60], astronaut[:60])
    assert (result.pixels[70:80, 70:80] != astronaut[70:80, 70:80]).any()


def test_box_outside_the_picture_is_an_error(astronaut, centre_mask):
    with pytest.raises(InputError, match=r"bbox 100,0,64,64 reaches outside the 128x128 image"):
        fill(astronaut, centre_mask, FillParams(bbox=BBox(x=100, y=0, width=64, height=64)))


def test_mask_empty_inside_the_box_is_an_error(astronaut, centre_mask):
    with pytest.raises(InputError, match="nothing to fill"):
        fill(astronaut, centre_mask, FillParams(bbox=BBox(x=0, y=0, width=20, height=20)))


@pytest.mark.parametrize("engine", ["patchmatch", "telea", "navier-stokes"])
@pytest.mark.parametrize("known_columns", [0, 2])
def test_a_box_with_nothing_to_copy_is_refused_by_engines_that_copy_from_the_picture(
    engine, known_columns, astronaut, centre_mask
):
    # telea would hand the picture back unchanged, patchmatch would leave it black: say so instead
    box = BBox(x=48 - known_columns, y=50, width=20, height=20)  # inside the hole but for a sliver
    with pytest.raises(
        InputError, match=rf"engine '{engine}' fills from the unmasked pixels .* no unmasked 3x3 area in the 20x20 box"
    ):
        fill(astronaut, centre_mask, FillParams(engine=engine, bbox=box))


def test_a_box_with_a_3x3_unmasked_area_is_filled(astronaut, centre_mask):
    result = fill(astronaut, centre_mask, FillParams(engine="patchmatch", bbox=BBox(x=45, y=50, width=20, height=20)))
    assert (result.pixels[50:70, 48:65] != astronaut[50:70, 48:65]).any()


def test_mask_of_another_size_is_an_error(astronaut):
    with pytest.raises(InputError, match="mask is 64x32 but the image is 128x128"):
        fill(astronaut, np.zeros((32, 64), np.uint8), FillParams())


@pytest.mark.parametrize("method", ["patchmatch", "blur", "solid", "tile", "telea", "navier-stokes"])
def test_outpainting_fills_transparent_pixels_and_makes_them_opaque(method, astronaut):
    rgba = np.dstack([astronaut, np.full((128, 128), 255, np.uint8)])
    rgba[:, 96:, 3] = 0  # the right quarter is empty canvas
    rgba[:, 96:, :3] = 0
    params = FillParams(engine="patchmatch", infill={"method": method, "color": "#336699"}, seed=1)

    result = fill(rgba, None, params)

    assert result.pixels.shape == (128, 128, 4)
    assert (result.pixels[..., 3] == 255).all(), "the empty area is opaque once filled"
    assert (result.pixels[:, 96:, :3].reshape(-1, 3).max(axis=0) > 40).all(), "the empty area got colour"
    keep = np.ones((128, 128), bool)
    keep[:, 96 - params.feather :] = False
    np.testing.assert_array_equal(result.pixels[keep], rgba[keep])


def test_outpainting_only_inside_the_box(astronaut):
    rgba = np.dstack([astronaut, np.full((128, 128), 255, np.uint8)])
    rgba[:, 96:, 3] = 0
    result = fill(rgba, None, FillParams(engine="telea", bbox=BBox(x=64, y=0, width=48, height=128), feather=0))
    assert (result.pixels[:, 96:112, 3] == 255).all()
    assert (result.pixels[:, 112:, 3] == 0).all(), "transparent pixels outside the box stay transparent"


def test_fill_mask_joins_transparent_pixels():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    painted = np.zeros((4, 4), np.uint8)
    painted[3, 3] = 255
    assert fill_mask(rgba, painted).tolist() == [[255, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 255]]


class SizeRecordingTelea(Telea):
    """The real Telea engine, noting the size it is handed."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def fill(self, image, mask, params, seed, hooks):
        assert image.shape[:2] == mask.shape
        self.sizes.append((image.shape[1], image.shape[0]))
        return super().fill(image, mask, params, seed, hooks)


@pytest.mark.parametrize(
    ("scale", "working"),
    [
        ({"mode": "none"}, (48, 48)),
        ({"mode": "manual", "width": 96, "height": 64}, (96, 64)),
        ({"mode": "auto"}, (48, 48)),
    ],
)
def test_scale_runs_the_engine_at_the_working_size_and_returns_the_box_size(scale, working, astronaut, centre_mask):
    engine = SizeRecordingTelea()
    params = FillParams(engine="telea", bbox="auto", padding=8, scale=scale, seed=1)
    result = fill(astronaut, centre_mask, params, engine=engine)
    assert engine.sizes == [working]
    assert result.working_size == working
    assert result.recipe["working_size"] == {"width": working[0], "height": working[1]}
    assert result.pixels.shape == astronaut.shape


def test_scaled_fill_is_scaled_back_into_the_hole(astronaut, centre_mask):
    # a fill made at 2x size lands in the hole with the hole's own colours, not shifted or stretched
    flat = np.full((128, 128, 3), (90, 160, 30), np.uint8)
    params = FillParams(engine="telea", bbox="auto", padding=8, scale={"mode": "manual", "width": 96, "height": 96})
    result = fill(flat, centre_mask, params)
    assert np.abs(result.pixels.astype(int) - (90, 160, 30)).max() <= 4


def test_a_cancelled_job_stops_before_the_engine_runs(astronaut, centre_mask):
    with pytest.raises(Cancelled):
        fill(astronaut, centre_mask, FillParams(engine="telea"), hooks=Hooks(is_cancelled=lambda: True))


def test_random_seed_is_made_concrete_and_reproduces(texture, centre_mask):
    first = fill(texture, centre_mask, FillParams(engine="patchmatch", seed=-1))
    assert 0 <= first.seed < 2**32
    assert first.recipe["seed"] == first.seed
    again = fill(texture, centre_mask, FillParams(engine="patchmatch", seed=first.seed))
    np.testing.assert_array_equal(first.pixels, again.pixels)


def test_png_carries_the_recipe_of_the_request(astronaut, centre_mask):
    params = FillParams(engine="navier-stokes", bbox="auto", padding=4, seed=42, feather=2, grow=1, prompt="sky")
    result = fill(astronaut, centre_mask, params)
    png = result.png()

    recipe = read_recipe(png)
    assert recipe["engine"] == "navier-stokes"
    assert recipe["seed"] == 42
    assert recipe["bbox"] == {"x": 43, "y": 43, "width": 42, "height": 42}
    assert (recipe["padding"], recipe["feather"], recipe["grow"]) == (4, 2, 1)
    assert "prompt" not in recipe and "guidance" not in recipe, "navier-stokes takes no prompt and no guidance"
    assert recipe["width"] == 128 and recipe["height"] == 128
    assert recipe["version"] == __version__
    assert recipe["engine_version"].startswith("opencv ")
    # the recipe is the request: its fill parameters are valid FillParams and give the same pixels
    known = {k: v for k, v in recipe.items() if k in FillParams.model_fields}
    np.testing.assert_array_equal(fill(astronaut, centre_mask, FillParams(**known)).pixels, result.pixels)

    text = Image.open(io.BytesIO(png)).text
    assert json.loads(text["retouch"]) == recipe
    parameters = text["parameters"]
    assert parameters.startswith("Sampler: navier-stokes, "), "no prompt line: navier-stokes takes no prompt"
    for part in ("Seed: 42", "Size: 128x128", "Model: navier-stokes", "Mask blur: 2", "Inpaint area: Only masked"):
        assert part in parameters


def test_png_keeps_input_exif_and_icc(astronaut, centre_mask):
    exif = Image.Exif()
    exif[0x010F] = "RetouchCam"
    exif[0x0132] = "2026:11:21 10:00:00"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture = load_picture(encode(astronaut, "JPEG", quality=95, exif=exif.tobytes(), icc_profile=icc))

    png = fill(picture, centre_mask, FillParams(engine="telea", seed=1)).png()

    with Image.open(io.BytesIO(png)) as out:
        assert out.info.get("icc_profile") == icc
        kept = out.getexif()
        assert kept[0x010F] == "RetouchCam" and kept[0x0132] == "2026:11:21 10:00:00"
        assert out.size == (128, 128)


def test_the_recipe_names_the_infill_only_where_the_box_held_empty_pixels(astronaut, centre_mask):
    inside = fill(astronaut, centre_mask, FillParams(engine="telea", seed=1))
    assert "infill" not in inside.recipe and "scale" not in inside.recipe  # telea works at the region's size
    assert inside.recipe["working_size"] == {"width": inside.bbox[2], "height": inside.bbox[3]}
    rgba = np.dstack([astronaut, np.full((128, 128), 255, np.uint8)])
    rgba[:, 96:, 3] = 0
    past_the_edge = FillParams(engine="telea", bbox=BBox(x=64, y=0, width=48, height=128), seed=1)
    outpainted = fill(rgba, None, past_the_edge)
    assert outpainted.recipe["infill"]["method"] == past_the_edge.infill.method
    assert "padding" not in outpainted.recipe  # the box was given
