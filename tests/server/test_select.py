"""Object selection through the real server: `POST /select` answers a stored mask of the picture's size, a
segment-anything model computes a picture's embedding once for many clicks, bad requests are 422s."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.imaging.select import iou
from retouch.registry import build_registry
from tests.select_scenes import cat_on
from tests.server.conftest import live_server


@pytest.fixture(scope="module")
def select_server(tmp_path_factory, sam_catalog):
    data_dir = tmp_path_factory.mktemp("select-server") / "data"
    with live_server(data_dir, engines=build_registry(sam_catalog), catalog=sam_catalog, preview_every=0) as live:
        yield live


@pytest.fixture(scope="module")
def cat_scene(select_server):
    picture, truth, box = cat_on("coffee")
    return select_server.upload(picture)["id"], truth, box


def test_a_box_selects_the_object_as_a_stored_mask(select_server, cat_scene):
    image_id, truth, (x, y, w, h) = cat_scene
    response = select_server.http.post(
        "/api/v1/select", json={"image": image_id, "box": {"x": x, "y": y, "width": w, "height": h}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "grabcut" and body["score"] is None
    mask = select_server.image(body["mask"])
    assert mask.shape == truth.shape and set(np.unique(mask)) == {0, 255}
    assert iou(mask, truth) >= 0.9 and body["area"] == np.count_nonzero(mask)
    assert body["bbox"]["x"] > x + 10  # the object's bounds, not the box's


def test_a_segment_anything_model_encodes_a_picture_once_for_many_clicks(select_server, cat_scene):
    image_id, truth, _ = cat_scene
    selector = select_server.app.state.selectors.get("tiny-sam")
    before = selector.embeddings_computed
    answers = []
    for points in ([[150, 170, True]], [[150, 170, True], [100, 120, True]], [[150, 170, True], [30, 30, False]]):
        json = {
            "image": image_id,
            "model": "tiny-sam",
            "points": [{"x": x, "y": y, "positive": p} for x, y, p in points],
        }
        response = select_server.http.post("/api/v1/select", json=json)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert selector.embeddings_computed == before + 1
    masks = [select_server.image(answer["mask"]) for answer in answers]
    assert all(mask.shape == truth.shape for mask in masks)  # the picture's size, not SAM's 1024 (here 256) square
    assert all(answer["model"] == "tiny-sam" and isinstance(answer["score"], float) for answer in answers)
    # the same clicks again: the same mask, from the cached embedding
    json = {"image": image_id, "model": "tiny-sam", "points": [{"x": 150, "y": 170}]}
    again = select_server.http.post("/api/v1/select", json=json).json()
    assert np.array_equal(select_server.image(again["mask"]), masks[0]) and again["score"] == answers[0]["score"]
    assert selector.embeddings_computed == before + 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"points": [{"x": 600, "y": 10}]}, "points[0]: (600, 10) is off the 600x400 picture"),
        ({"box": {"x": 10, "y": 10, "width": 0, "height": 5}}, "box.width: Input should be greater than or equal to 1"),
        ({"box": {"x": 500, "y": 10, "width": 200, "height": 5}}, "box: (500, 10, 200, 5) reaches past"),
        ({"points": [{"x": 5, "y": 5}], "model": "sam-h"}, "model: 'sam-h' is not a selection model; available:"),
        ({"points": [{"x": 5, "y": 5, "positve": False}]}, "points.0.positve: unknown field"),
        ({"points": [{"x": 5, "y": 5}], "previous": "y" * 20}, "previous: no image with id"),
        ({}, "points: give a box, a positive point or a previous mask"),
    ],
)
def test_bad_requests_are_422s_naming_the_field(select_server, cat_scene, change, message):
    response = select_server.http.post("/api/v1/select", json={"image": cat_scene[0], **change})
    assert response.status_code == 422, response.text
    assert message in response.json()["message"]
