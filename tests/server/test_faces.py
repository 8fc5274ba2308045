"""Faces through the real server: `POST /faces` finds them, a `faces` job fixes them, bad requests are 422s."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from retouch.imaging.io import read_recipe
from retouch.registry import build_registry
from tests.faces_scenes import ASTRONAUT_FACE, group, iou
from tests.server.conftest import live_server


@pytest.fixture(scope="module")
def faces_server(tmp_path_factory, tiny_catalog):
    data_dir = tmp_path_factory.mktemp("faces-server") / "data"
    with live_server(data_dir, engines=build_registry(tiny_catalog), catalog=tiny_catalog, preview_every=0) as live:
        yield live


def test_find_faces_answers_the_boxes(faces_server):
    image_id = faces_server.upload(data.astronaut())["id"]
    response = faces_server.http.post("/api/v1/faces", json={"image": image_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["detector"] == "hog" and body["smallest_face"] <= 40
    [face] = body["faces"]
    assert iou((face["x"], face["y"], face["width"], face["height"]), ASTRONAUT_FACE) > 0.8 and face["score"] > 0


def test_a_picture_without_faces_answers_an_empty_list(faces_server):
    image_id = faces_server.upload(data.coffee())["id"]
    response = faces_server.http.post("/api/v1/faces", json={"image": image_id})
    assert response.status_code == 200 and response.json()["faces"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"image": "x" * 20}, "image: no image with id"),
        ({"image": "x" * 20, "min_face": 2}, "min_face: Input should be greater than or equal to 8"),
        ({"image": "x" * 20, "detecter": "hog"}, "detecter: unknown field"),
    ],
)
def test_find_faces_refuses_bad_requests_naming_the_field(faces_server, body, message):
    response = faces_server.http.post("/api/v1/faces", json=body)
    assert response.status_code == 422 and message in response.json()["message"]


def test_an_unknown_detector_is_named(faces_server):
    image_id = faces_server.upload(data.coffee())["id"]
    response = faces_server.http.post("/api/v1/faces", json={"image": image_id, "detector": "yunet"})
    assert response.status_code == 422
    assert response.json()["message"] == "face detector 'yunet' is unknown; available: hog"


def test_a_faces_job_fixes_the_faces_and_keeps_the_rest(faces_server):
    pixels, _ = group(data.chelsea(), [("astronaut", 56, (40, 30))])
    image_id = faces_server.upload(pixels)["id"]
    job = {"kind": "faces", "image": image_id, "engine": "tiny-sd-inpaint", "steps": 4, "strength": 0.5, "seed": 5}
    response = faces_server.submit(**job)
    assert response.status_code == 202, response.text
    done = faces_server.wait(response.json()["id"], timeout=120)
    assert done["status"] == "succeeded", done
    assert done["kind"] == "faces" and len(done["result"]["report"]["faces"]) == 1
    result = faces_server.image(done["result"]["image"])
    region = done["result"]["report"]["faces"][0]
    far = np.ones(pixels.shape[:2], bool)
    far[: region["y"] + region["height"] + 80, : region["x"] + region["width"] + 80] = False
    assert np.array_equal(result[far], pixels[far])
    recipe = read_recipe(faces_server.http.get(f"/api/v1/images/{done['result']['image']}").content)
    assert recipe["kind"] == "faces" and recipe["faces"][0]["seed"] == 5


def test_a_faces_job_on_a_faceless_picture_fails_with_no_faces_found(faces_server):
    image_id = faces_server.upload(data.coffee())["id"]
    response = faces_server.submit(kind="faces", image=image_id, engine="tiny-sd-inpaint", steps=4, strength=0.5)
    assert response.status_code == 202
    done = faces_server.wait(response.json()["id"], timeout=120)
    assert done["status"] == "failed" and done["error"]["message"].startswith("no faces found")


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"engine": "telea"}, "engine: 'telea' cannot fix faces; faces are fixed by diffusion models"),
        (
            {"engine": "tiny-sd", "faces": [{"x": 590, "y": 0, "width": 40, "height": 40}]},
            "590,0,40,40 reaches outside the 600x400",
        ),
        ({"engine": "tiny-sd", "faces": [{"x": 0, "y": 0, "width": 3, "height": 40}]}, "smaller than 8x8"),
        ({"engine": "tiny-sd", "strength": 2}, "strength: Input should be less than or equal to 1"),
        ({}, "give a diffusion model"),
    ],
)
def test_bad_faces_jobs_are_refused_before_queueing(faces_server, job, message):
    image_id = faces_server.upload(data.coffee())["id"]
    response = faces_server.submit(kind="faces", image=image_id, **job)
    assert response.status_code == 422, response.text
    assert message in response.json()["message"]


def test_a_faces_job_uses_the_detectors_of_the_servers_catalog(tmp_path, tiny_catalog):
    """`serve --catalog` names the detectors for `POST /faces` and for faces jobs alike (a job once read the
    user's default catalog and called the server's own detector unknown)."""
    from retouch.catalog import DetectorEntry, load_catalog, save_catalog

    junk = tmp_path / "broken.onnx"
    junk.write_bytes(b"not an ONNX model")
    catalog = load_catalog(tiny_catalog)
    catalog.detectors.append(DetectorEntry(name="mine", source=str(junk)))
    path = tmp_path / "catalog.yaml"
    save_catalog(catalog, path)
    with live_server(tmp_path / "data", engines=build_registry(path), catalog=path, preview_every=0) as live:
        image_id = live.upload(data.astronaut())["id"]
        found = live.http.post("/api/v1/faces", json={"image": image_id, "detector": "mine"})
        job = {"kind": "faces", "image": image_id, "engine": "tiny-sd-inpaint", "detect": {"detector": "mine"}}
        response = live.submit(**job)
        assert response.status_code == 202, response.text
        done = live.wait(response.json()["id"], timeout=120)
    assert found.status_code >= 400 and "OpenCV cannot load" in found.json()["message"]
    assert done["status"] == "failed" and done["error"]["message"] == found.json()["message"]
