"""Jobs that name a catalog model, through the real server: engine list, events, result, recipe, cancel, errors."""

from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pytest
import websockets
from PIL import Image

from retouch.catalog import Catalog, CatalogEntry, load_catalog, save_catalog
from retouch.imaging.io import read_recipe
from retouch.registry import build_registry
from retouch.server.settings import Settings
from tests.server.conftest import live_server

FINAL = {"job.succeeded", "job.failed", "job.canceled"}


@pytest.fixture
def model_server(tmp_path, tiny_catalog):
    """A server whose engine table is built from the tiny catalog by the server's own start-up code."""
    catalog = tmp_path / "catalog.yaml"
    models = load_catalog(tiny_catalog).models
    models.append(CatalogEntry(name="absent", family="sd-inpaint", source="./weights/absent"))
    save_catalog(Catalog(models=models), catalog)
    settings = Settings(data_dir=tmp_path / "data", catalog=catalog)
    with live_server(
        tmp_path / "data", engines=build_registry(settings.catalog), catalog=catalog, preview_every=0
    ) as live:
        yield live


@pytest.fixture
def photo():
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    mask = np.zeros((64, 80), np.uint8)
    mask[16:40, 20:60] = 255
    return pixels, mask


def run_job(server, job: dict, cancel_after_step: int | None = None) -> tuple[str, list[dict]]:
    """Submit, follow the job's events on a websocket (cancelling after a step if asked) until it ends."""

    async def scenario():
        async with websockets.connect(server.ws_url, max_size=None) as ws:
            response = server.submit(**job)
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
            await ws.send(json.dumps({"type": "subscribe", "job_ids": [job_id]}))
            events: list[dict] = []
            async with asyncio.timeout(120):
                while not events or events[-1]["type"] not in FINAL:
                    event = json.loads(await ws.recv())
                    if event["type"] == "queue.status":
                        continue
                    events.append(event)
                    if event["type"] == "job.progress" and event["step"] == cancel_after_step:
                        server.http.delete(f"/api/v1/jobs/{job_id}")
            return job_id, events

    return asyncio.run(scenario())


def test_engine_list_shows_models_with_family_presence_and_defaults(model_server):
    engines = {e["name"]: e for e in model_server.http.get("/api/v1/engines").json()}
    assert "patchmatch" in engines
    sd = engines["tiny-sd-inpaint"]
    assert sd["family"] == "sd-inpaint" and sd["present"] is True and sd["needs_weights"] is True
    assert sd["native_size"] == 64 and sd["defaults"]["scheduler"] in sd["schedulers"]
    assert engines["tiny-flux-fill"]["schedulers"] == ["flow-euler"]
    assert engines["absent"]["present"] is False


def test_a_model_job_streams_steps_and_previews_and_returns_an_exact_reproducible_result(model_server, photo):
    pixels, mask = photo
    image_id, mask_id = model_server.upload(pixels)["id"], model_server.upload(mask)["id"]
    job = dict(
        image=image_id,
        mask=mask_id,
        engine="tiny-sdxl-inpaint",
        prompt="a stone wall",
        steps=6,
        seed=99,
        scheduler="Euler a",
        guidance=6.0,
        feather=0,
    )
    job_id, events = run_job(model_server, job)

    assert events[-1]["type"] == "job.succeeded", events[-1]
    # (a subscriber may first be told the job's state so far, e.g. 0 of 0 before it starts)
    progress = [e for e in events if e["type"] == "job.progress" and e["step"] > 0]
    assert [(e["step"], e["total"]) for e in progress] == [(i, 6) for i in range(1, 7)]
    previews = [e["preview"] for e in progress if e["preview"]]
    assert previews and all(p.startswith("data:image/jpeg;base64,") for p in previews)
    assert events[-1]["seed"] == 99

    result_id = events[-1]["result"]["image"]
    png = model_server.http.get(f"/api/v1/images/{result_id}").content
    produced = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert produced.shape == pixels.shape
    assert np.array_equal(produced[mask == 0], pixels[mask == 0])
    recipe = read_recipe(png)
    assert recipe["engine"] == "tiny-sdxl-inpaint" and recipe["prompt"] == "a stone wall"
    assert recipe["seed"] == 99 and recipe["steps"] == 6 and recipe["scheduler"] == "euler-a"

    _, again = run_job(model_server, job)
    again_png = model_server.http.get(f"/api/v1/images/{again[-1]['result']['image']}").content
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(again_png))), np.asarray(Image.open(io.BytesIO(png))))


def test_cancelling_a_model_job_stops_it_between_steps(model_server, photo):
    pixels, mask = photo
    image_id, mask_id = model_server.upload(pixels)["id"], model_server.upload(mask)["id"]
    job = dict(image=image_id, mask=mask_id, engine="tiny-sd-inpaint", steps=200, seed=1)
    job_id, events = run_job(model_server, job, cancel_after_step=2)
    assert events[-1]["type"] == "job.canceled"
    steps = [e["step"] for e in events if e["type"] == "job.progress"]
    assert steps and max(steps) < 200
    assert model_server.http.get(f"/api/v1/jobs/{job_id}").json()["status"] == "canceled"


def test_model_errors_are_clear_and_the_worker_survives(model_server, photo):
    pixels, mask = photo
    image_id, mask_id = model_server.upload(pixels)["id"], model_server.upload(mask)["id"]

    refused = model_server.submit(image=image_id, mask=mask_id, engine="tiny-flux-fill", scheduler="ddim")
    assert refused.status_code == 422
    assert "'ddim'" in refused.json()["message"] and "flow-euler" in refused.json()["message"]
    unknown = model_server.submit(image=image_id, mask=mask_id, engine="tiny-sd-inpaint", scheduler="heun")
    assert unknown.status_code == 422 and "heun" in unknown.json()["message"]

    _, events = run_job(model_server, dict(image=image_id, mask=mask_id, engine="absent"))
    assert events[-1]["type"] == "job.failed"
    assert events[-1]["error"]["code"] == "engine_error"
    assert "'absent'" in events[-1]["error"]["message"] and "does not exist" in events[-1]["error"]["message"]

    _, after = run_job(model_server, dict(image=image_id, mask=mask_id, engine="tiny-sd", steps=2))
    assert after[-1]["type"] == "job.succeeded"


def test_settings_a_job_leaves_out_take_the_models_defaults(model_server, photo):
    pixels, mask = photo
    image_id, mask_id = model_server.upload(pixels)["id"], model_server.upload(mask)["id"]
    engines = {e["name"]: e for e in model_server.http.get("/api/v1/engines").json()}
    defaults = engines["tiny-flux-fill"]["defaults"]
    assert defaults["guidance"] != 7.5  # FLUX.1 Fill's guidance is not SD's
    _, events = run_job(model_server, dict(image=image_id, mask=mask_id, engine="tiny-flux-fill", steps=2, seed=3))
    assert events[-1]["type"] == "job.succeeded", events[-1]
    recipe = read_recipe(model_server.http.get(f"/api/v1/images/{events[-1]['result']['image']}").content)
    assert recipe["steps"] == 2  # what the job said
    assert recipe["guidance"] == defaults["guidance"]  # what it left out
    assert recipe["scheduler"] == defaults["scheduler"]
