"""Every endpoint of the real app, as a client sees it."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from retouch.imaging.io import read_recipe


def test_upload_returns_id_and_size_and_serves_png(server, picture):
    info = server.upload(picture, fmt="JPEG")
    assert info["width"] == 128 and info["height"] == 96 and info["has_alpha"] is False
    assert len(info["id"]) >= 16
    response = server.http.get(f"/api/v1/images/{info['id']}")
    assert response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (128, 96)


def test_upload_keeps_alpha(server, picture):
    rgba = np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])
    rgba[:10, :10, 3] = 0
    info = server.upload(rgba)
    assert info["has_alpha"] is True
    assert (server.image(info["id"]) == rgba).all()


def test_job_fills_only_the_mask_and_records_the_recipe(server, uploaded, picture, hole):
    image_id, mask_id = uploaded
    response = server.submit(image=image_id, mask=mask_id, engine="telea", feather=0, seed=42)
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "queued" and accepted["position"] >= 0
    job = server.wait(accepted["id"])
    assert job["status"] == "succeeded", job
    assert job["seed"] == 42 and job["progress"]["step"] == job["progress"]["total"] >= 1
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    result = server.image(job["result"]["image"])
    assert result.shape == picture.shape
    assert (result[hole == 0] == picture[hole == 0]).all()
    assert (result[hole > 0] != picture[hole > 0]).any()
    recipe = read_recipe(server.http.get(f"/api/v1/images/{job['result']['image']}").content)
    assert recipe["engine"] == "telea" and recipe["seed"] == 42 and recipe["feather"] == 0


def test_random_seed_is_reported(server, uploaded):
    image_id, mask_id = uploaded
    job = server.wait(server.submit(image=image_id, mask=mask_id, engine="telea").json()["id"])
    assert isinstance(job["seed"], int) and 0 <= job["seed"] < 2**32


def test_transparent_pixels_are_filled_without_a_mask(server, picture):
    rgba = np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])
    rgba[:, 100:, 3] = 0  # outpainting: the right strip is empty
    image_id = server.upload(rgba)["id"]
    job = server.wait(server.submit(image=image_id, engine="telea", feather=0, infill={"method": "blur"}).json()["id"])
    assert job["status"] == "succeeded", job
    result = server.image(job["result"]["image"])
    assert (result[..., 3] == 255).all()
    assert (result[:, :100] == rgba[:, :100]).all()


def test_list_jobs_filters_and_pages(server, uploaded):
    image_id, mask_id = uploaded
    ids = [server.submit(image=image_id, mask=mask_id, engine="invert").json()["id"] for _ in range(3)]
    for job_id in ids:
        server.wait(job_id)
    page = server.http.get("/api/v1/jobs", params={"status": "succeeded", "limit": 2}).json()
    assert page["count"] == 3 and len(page["data"]) == 2
    assert page["data"][0]["id"] == ids[-1]  # newest first
    rest = server.http.get("/api/v1/jobs", params={"status": "succeeded", "limit": 2, "offset": 2}).json()
    assert [job["id"] for job in rest["data"]] == [ids[0]]
    assert server.http.get("/api/v1/jobs", params={"status": "queued"}).json()["count"] == 0


def test_engines_lists_capabilities(server):
    engines = {engine["name"]: engine for engine in server.http.get("/api/v1/engines").json()}
    assert {"patchmatch", "telea", "navier-stokes"} <= set(engines)
    assert engines["patchmatch"]["needs_weights"] is False
    assert engines["telea"]["takes_prompt"] is False


def test_health(server):
    health = server.http.get("/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["devices"][0]["name"] == "cpu"
    assert set(health["queue"]) == {"pending", "running"}


def test_openapi_documents_every_job_kind_with_bounds_and_the_socket_events(server):
    spec = server.http.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    body = spec["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    kinds = {ref["$ref"].rsplit("/", 1)[1] for ref in body["oneOf"]}
    assert kinds == {"FillJob", "UpscaleJob", "FacesJob", "SeamsJob"}
    fill = schemas["FillJob"]
    assert fill["additionalProperties"] is False
    assert fill["properties"]["strength"]["maximum"] == 1
    assert "description" in fill["properties"]["feather"]
    assert fill["properties"]["kind"]["default"] == "fill"
    scale = schemas["UpscaleJob"]["properties"]["scale"]["anyOf"][0]  # a number, or null = the model's own
    assert scale["maximum"] == 8 and scale["minimum"] == 1
    assert {"/api/v1/images", "/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/engines"} <= set(spec["paths"])
    # what the websocket sends is typed too, so the canvas's generated client knows every event
    events = {ref["$ref"].rsplit("/", 1)[1] for ref in schemas["ServerEvent"]["oneOf"]}
    assert {"JobQueuedEvent", "JobProgressEvent", "JobSucceededEvent", "QueueStatusEvent"} <= events
    assert "stage" in schemas["JobProgressEvent"]["properties"]
    assert schemas["Subscribe"]["properties"]["type"]["enum"] == ["subscribe", "unsubscribe"]


def test_model_that_fails_to_load_fails_the_job_and_the_worker_lives_on(server, uploaded):
    image_id, mask_id = uploaded
    broken = server.wait(server.submit(image=image_id, mask=mask_id, engine="broken").json()["id"])
    assert broken["status"] == "failed"
    assert broken["error"]["code"] == "engine_error"
    assert "broken" in broken["error"]["message"] and "truncated" in broken["error"]["message"]
    after = server.wait(server.submit(image=image_id, mask=mask_id, engine="telea").json()["id"])
    assert after["status"] == "succeeded"


def test_root_is_the_canvas(server):
    page = server.http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>Retouch</title>" in page.text and 'data-testid="canvas' in page.text


def test_thumbnail_fits_max_side_and_bad_sizes_are_refused(server, picture):
    image_id = server.upload(picture)["id"]
    response = server.http.get(f"/api/v1/images/{image_id}", params={"max_side": 32})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    thumb = np.asarray(Image.open(io.BytesIO(response.content)))
    assert thumb.shape[:2] == (24, 32)
    # the thumbnail is the picture, shrunk: its mean colour matches
    assert np.abs(thumb.reshape(-1, 3).mean(0) - picture.reshape(-1, 3).mean(0)).max() < 4
    for bad in (8, 4096, "big"):
        refused = server.http.get(f"/api/v1/images/{image_id}", params={"max_side": bad})
        assert refused.status_code == 422 and "max_side" in refused.json()["message"], refused.text


def test_a_grey_mask_png_is_kept_as_it_came(server, hole):
    """The canvas sends masks as grey PNGs, a moment after each change: the server keeps the bytes instead
    of converting and encoding them again."""
    buffer = io.BytesIO()
    Image.fromarray(hole).save(buffer, "PNG")
    sent = buffer.getvalue()
    info = server.http.post("/api/v1/images", files={"file": ("mask.png", sent, "image/png")}).json()
    assert (info["width"], info["height"], info["has_alpha"]) == (128, 96, False)
    assert server.http.get(f"/api/v1/images/{info['id']}").content == sent
