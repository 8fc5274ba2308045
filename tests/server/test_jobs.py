"""Jobs of several kinds through one route, checked once at submission, with one event per state change."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from retouch.imaging.io import read_recipe
from retouch.server.migrations import open_database
from retouch.server.queue import SqliteJobQueue
from retouch.server.schemas import JOB_KINDS, ErrorPublic


def test_a_job_without_kind_is_a_fill_and_reports_its_kind(server, uploaded):
    image_id, mask_id = uploaded
    job = server.wait(server.submit(image=image_id, mask=mask_id, engine="telea").json()["id"])
    assert job["status"] == "succeeded" and job["kind"] == "fill" and job["engine"] == "telea"
    assert job["result"]["report"]["bbox"] == {"x": 0, "y": 0, "width": 128, "height": 96}
    explicit = server.wait(server.submit(kind="fill", image=image_id, mask=mask_id, engine="telea").json()["id"])
    assert explicit["kind"] == "fill" and explicit["status"] == "succeeded"


def test_an_upscale_job_makes_the_picture_larger_and_keeps_its_recipe(server, picture):
    image_id = server.upload(picture)["id"]
    job = server.wait(server.submit(kind="upscale", image=image_id, scale=2).json()["id"])
    assert job["status"] == "succeeded" and job["kind"] == "upscale" and job["engine"] == "lanczos"
    png = server.http.get(f"/api/v1/images/{job['result']['image']}").content
    assert Image.open(io.BytesIO(png)).size == (256, 192)
    assert read_recipe(png)["kind"] == "upscale" and read_recipe(png)["scale"] == 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "sharpen"}, "kind: must be one of fill, upscale, faces, seams (got 'sharpen')"),
        ({"kind": "upscale", "mask": "x" * 22}, "mask: unknown field"),
        ({"kind": "upscale", "scale": 9}, "scale: Input should be less than or equal to 8"),
        ({"kind": "upscale", "model": "esrgan"}, "'esrgan' is unknown"),
        ({"kind": "upscale", "scale": 8, "max_pixels": 100_000}, "over the limit of 100000"),
        ({"engine": "telea", "bbox": {"x": 0, "y": 0, "width": 10, "height": 10}}, "nothing to fill"),
    ],
)
def test_bad_jobs_of_every_kind_are_422s_naming_the_problem(server, uploaded, body, words):
    image_id, mask_id = uploaded
    body = {"image": image_id, **body}
    if body.get("kind", "fill") == "fill":
        body["mask"] = mask_id
    response = server.submit(**body)
    assert response.status_code == 422, response.text
    assert words in response.json()["message"]
    assert server.http.get("/api/v1/health").status_code == 200


def test_an_empty_mask_and_a_mask_without_context_are_refused_before_queueing(server, picture):
    image_id = server.upload(picture)["id"]
    empty = server.upload(np.zeros(picture.shape[:2], np.uint8))["id"]
    full = server.upload(np.full(picture.shape[:2], 255, np.uint8))["id"]
    response = server.submit(image=image_id, mask=empty, engine="telea")
    assert response.status_code == 422 and "empty" in response.json()["message"]
    response = server.submit(image=image_id, mask=full, engine="patchmatch")
    assert response.status_code == 422 and "no unmasked" in response.json()["message"]
    assert server.http.get("/api/v1/jobs").json()["count"] == 0  # nothing was queued


def test_a_mask_the_size_of_the_box_is_the_mask_of_the_box(server, picture):
    """The canvas uploads the picture once and sends only the mask it painted inside the box."""
    image_id = server.upload(picture)["id"]
    box = {"x": 40, "y": 20, "width": 48, "height": 40}
    crop_mask = np.zeros((40, 48), np.uint8)
    crop_mask[10:30, 12:36] = 255
    mask_id = server.upload(crop_mask)["id"]
    job = server.wait(server.submit(image=image_id, mask=mask_id, engine="invert", bbox=box, feather=0).json()["id"])
    assert job["status"] == "succeeded", job
    result = server.image(job["result"]["image"])
    inside = np.zeros(picture.shape[:2], bool)
    inside[30:50, 52:76] = True
    assert np.array_equal(result[inside], 255 - picture[inside])
    assert np.array_equal(result[~inside], picture[~inside])  # exact outside the mask, and the box lies
    wrong = server.upload(np.zeros((41, 48), np.uint8) + 255)["id"]
    response = server.submit(image=image_id, mask=wrong, engine="invert", bbox=box)
    assert response.status_code == 422 and "48x41" in response.json()["message"]


def test_each_state_change_is_announced_exactly_once(tmp_path):
    events: list[tuple[str, str | None]] = []
    lock = threading.Lock()

    def publish(event, session):
        with lock:
            events.append((event.type, getattr(event, "job_id", None)))

    queue = SqliteJobQueue(open_database(tmp_path), publish)
    job = JOB_KINDS["fill"](image="i" * 22, mask="m" * 22, engine="telea")

    done = queue.submit(job, "telea", "session-1").id
    assert queue.start(done, "cpu")
    queue.progress(done, 1, 2, None, None)
    assert queue.succeed(done, "r" * 22, 7, {"bbox": {}})
    assert not queue.succeed(done, "r" * 22, 7, {})  # a second completion changes nothing, says nothing
    failed = queue.submit(job, "telea", None).id
    assert queue.start(failed, "cpu") and not queue.start(failed, "cpu")
    assert queue.fail(failed, ErrorPublic(code="engine_error", message="x"))
    canceled = queue.submit(job, "telea", None).id
    queue.cancel(canceled)
    stopped = queue.submit(job, "telea", None).id
    queue.start(stopped, "cpu")
    assert queue.mark_canceled(stopped) and not queue.fail(stopped, ErrorPublic(code="x", message="y"))

    by_job = {}
    for kind, job_id in events:
        by_job.setdefault(job_id, []).append(kind)
    assert by_job[done] == ["job.queued", "job.started", "job.progress", "job.succeeded"]
    assert by_job[failed] == ["job.queued", "job.started", "job.failed"]
    assert by_job[canceled] == ["job.queued", "job.canceled"]
    assert by_job[stopped] == ["job.queued", "job.started", "job.canceled"]
    # the counts are announced after each change that moved them, and only then
    assert by_job[None].count("queue.status") == sum(len(v) for k, v in by_job.items() if k) - 1
