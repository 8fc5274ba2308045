"""Spandrel models through the real server: the engine list says what each is for, upscale jobs report each tile
and return factor x the picture, LaMa fill jobs keep every pixel outside the mask, and bad requests are 422s
naming the field before anything is queued."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from retouch.imaging.io import read_recipe
from retouch.registry import build_registry
from tests.server.conftest import live_server
from tests.server.test_diffusion_jobs import run_job


@pytest.fixture(scope="module")
def spandrel_server(tmp_path_factory, spandrel_catalog):
    """A server whose engine table is built from the catalog by the server's own start-up code."""
    data = tmp_path_factory.mktemp("data")
    with live_server(data, engines=build_registry(spandrel_catalog), catalog=spandrel_catalog) as live:
        yield live


@pytest.fixture(scope="module")
def uploaded(spandrel_server) -> tuple[str, str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(12)
    pixels = rng.integers(0, 256, (48, 80, 3), dtype=np.uint8)
    mask = np.zeros((48, 80), np.uint8)
    mask[12:36, 30:56] = 255
    return spandrel_server.upload(pixels)["id"], spandrel_server.upload(mask)["id"], pixels, mask


def test_engine_list_says_what_each_model_is_for(spandrel_server):
    engines = {e["name"]: e for e in spandrel_server.http.get("/api/v1/engines").json()}
    assert engines["lama"]["purpose"] == "inpainting" and engines["lama"]["architecture"] == "LaMa"
    assert engines["lama"]["takes_prompt"] is False and engines["lama"]["present"] is True
    assert (engines["up4"]["purpose"], engines["up4"]["scale"]) == ("upscaling", 4)
    assert (engines["faces"]["purpose"], engines["faces"]["native_size"]) == ("face-restoration", 512)
    assert "CC BY-NC 4.0" in engines["mat"]["licence"] and engines["lama"]["licence"] is None
    assert engines["patchmatch"]["purpose"] == "inpainting"


def test_an_upscale_job_reports_each_tile_and_returns_the_picture_four_times_larger(spandrel_server, uploaded):
    image_id, _, pixels, _ = uploaded
    job_id, events = run_job(spandrel_server, dict(kind="upscale", image=image_id, model="up4", tile=64, overlap=16))
    assert events[-1]["type"] == "job.succeeded", events[-1]
    job = spandrel_server.http.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["progress"]["step"], job["progress"]["total"]) == (6, 6), "80x48 in 32 px cores: 3 x 2 tiles"
    # events that came after the subscription (the first tiles may run before it) count the same tiles
    steps = [(e["step"], e["total"]) for e in events if e["type"] == "job.progress" and e["total"]]
    assert steps and all(total == 6 for _, total in steps) and steps == sorted(steps)
    assert (job["kind"], job["engine"]) == ("upscale", "up4")
    assert job["result"]["report"]["width"] == 320 and job["result"]["report"]["tiles"] == 6
    data = spandrel_server.http.get(f"/api/v1/images/{job['result']['image']}").content
    tiled = np.asarray(Image.open(io.BytesIO(data))).astype(int)
    assert tiled.shape == (48 * 4, 80 * 4, 3)
    recipe = read_recipe(data)
    assert (recipe["kind"], recipe["model"], recipe["scale"], recipe["tile"]) == ("upscale", "up4", 4.0, 64)

    whole_id, events = run_job(spandrel_server, dict(kind="upscale", image=image_id, model="up4"))
    whole_job = spandrel_server.http.get(f"/api/v1/jobs/{whole_id}").json()
    whole = spandrel_server.image(whole_job["result"]["image"]).astype(int)
    assert np.abs(whole - tiled).max() <= 1, "tiled = untiled within rounding"


def test_a_lama_fill_job_keeps_every_pixel_outside_the_mask_and_repeats_exactly(spandrel_server, uploaded):
    image_id, mask_id, pixels, mask = uploaded
    results = []
    for seed in (1, 2):
        job = spandrel_server.submit(image=image_id, mask=mask_id, engine="lama", feather=0, seed=seed)
        assert job.status_code == 202, job.text
        done = spandrel_server.wait(job.json()["id"], timeout=120)
        assert done["status"] == "succeeded", done
        results.append(spandrel_server.image(done["result"]["image"]))
    first, second = results
    np.testing.assert_array_equal(first[mask == 0], pixels[mask == 0])
    assert (first[mask > 0] != pixels[mask > 0]).mean() > 0.9
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (dict(kind="upscale", model="lama"), "model: 'lama' (LaMa) is for inpainting; it does not upscale"),
        (dict(kind="upscale", model="up4", scale=6), "scale: 6 is more than the 4x model 'up4' makes"),
        (dict(kind="upscale", model="up4", max_pixels=20_000), "over the limit of 20000"),
        (dict(kind="upscale", model="up4", tile=64, overlap=40), "overlap 40 needs tiles of at least 120 px"),
        (dict(engine="up4"), "Compact upscaling model (4x); it cannot fill a mask"),
        (dict(engine="faces"), "RestoreFormer face restoration model; it cannot fill a mask"),
    ],
)
def test_bad_requests_are_422_naming_the_problem(spandrel_server, uploaded, job, message):
    image_id, mask_id, _, _ = uploaded
    if job.get("kind", "fill") == "fill":
        job = {**job, "mask": mask_id}
    before = spandrel_server.http.get("/api/v1/jobs").json()["count"]
    response = spandrel_server.submit(image=image_id, **job)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input" and message in response.json()["message"]
    assert spandrel_server.http.get("/api/v1/jobs").json()["count"] == before, "nothing was queued"
