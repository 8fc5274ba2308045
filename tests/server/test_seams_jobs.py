"""Seam repair and seam scores through the API: a `seams` job, a fill's score and its optional seam pass."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.imaging.io import read_recipe
from tests.support import ellipse_mask, hard_paste, photo


@pytest.fixture
def seamed(server):
    picture = photo("chelsea")
    mask = ellipse_mask(picture.shape)
    pasted = hard_paste(picture, mask)
    return pasted, mask, server.upload(pasted)["id"], server.upload(mask)["id"]


def test_a_seams_job_repairs_the_band_and_reports_every_pass(server, seamed):
    pasted, mask, image_id, mask_id = seamed
    response = server.submit(kind="seams", image=image_id, mask=mask_id, band=6, seed=4)
    assert response.status_code == 202, response.text
    job = server.wait(response.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["kind"] == "seams" and job["engine"] == "poisson" and job["seed"] == 4
    report = job["result"]["report"]
    assert report["seam_before"] > 1.8 and report["seam"] < report["seam_before"] / 1.8
    assert report["passes"][0]["kept"] and "seam" in job["progress"]["stage"]
    result = server.image(job["result"]["image"])
    keep = (mask == 0) & ~cv2_band(mask, 6)  # the region's tone and the band may change, nothing else
    np.testing.assert_array_equal(result[keep], pasted[keep])
    recipe = read_recipe(server.http.get(f"/api/v1/images/{job['result']['image']}").content)
    assert recipe["kind"] == "seams" and recipe["pass_scores"] == report["passes"]


def cv2_band(mask: np.ndarray, band: int) -> np.ndarray:
    from scipy import ndimage

    inside = mask > 0
    return np.where(inside, ndimage.distance_transform_edt(inside), ndimage.distance_transform_edt(~inside)) <= band


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"mask": "empty"}, "mask: has no boundary to repair (it is empty)"),
        ({"mask": "full"}, "mask: has no boundary to repair (it is the whole picture)"),
        ({"band": 120}, "band: 120 px is wider than the 226x150 picture allows (at most 74 px)"),
        ({"band": 0}, "band"),
        ({"passes": 99}, "passes"),
        ({"engine": "nope"}, "engine 'nope' is unknown; available:"),
        ({"mask": None}, "mask"),
        ({"sharpen": 2}, "sharpen: unknown field"),
    ],
)
def test_bad_seams_jobs_are_refused_with_a_message(server, seamed, fields, words):
    _, mask, image_id, mask_id = seamed
    masks = {
        "empty": server.upload(np.zeros(mask.shape, np.uint8))["id"],
        "full": server.upload(np.full(mask.shape, 255, np.uint8))["id"],
    }
    body = {"kind": "seams", "image": image_id, "mask": mask_id, **fields}
    if isinstance(body["mask"], str) and body["mask"] in masks:
        body["mask"] = masks[body["mask"]]
    if body["mask"] is None:
        del body["mask"]
    response = server.submit(**body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input" and words in response.json()["message"]
    assert server.http.get("/api/v1/health").json()["status"] == "ok"


def test_a_fill_reports_its_seam_score_and_can_repair_it(server, seamed):
    _, _, image_id, mask_id = seamed
    plain = server.wait(server.submit(image=image_id, mask=mask_id, engine="invert", feather=0, seed=1).json()["id"])
    assert plain["status"] == "succeeded", plain
    assert plain["result"]["report"]["seam"] > 2
    repaired = server.wait(
        server.submit(image=image_id, mask=mask_id, engine="invert", feather=0, seed=1, seam_pass=True).json()["id"]
    )
    report = repaired["result"]["report"]
    assert report["seam_before_passes"] == plain["result"]["report"]["seam"]
    assert report["seam"] < report["seam_before_passes"]
    recipe = read_recipe(server.http.get(f"/api/v1/images/{repaired['result']['image']}").content)
    assert recipe["seam_pass"] is True and recipe["seam"]["score"] == report["seam"]
