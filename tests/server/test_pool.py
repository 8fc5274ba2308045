"""The device pool: jobs go to a device that has their model loaded, else the least loaded one;
each worker keeps models within its memory budget, least recently used out first."""

from __future__ import annotations

import numpy as np

from retouch.devices import Device
from retouch.engines import ENGINES, Engine, Hooks
from retouch.recipe import FillParams
from retouch.server.pool_base import ModelCache
from tests.server.cluster_engines import FaultyEngine
from tests.server.conftest import TEST_ENGINES, live_server

EVENTS: list[tuple[str, str, str]] = []  # (what, engine, device)


class _Model(Engine):
    description = "test model of a known size"
    needs_weights = True
    size = 60

    def load(self, device: str) -> None:
        super().load(device)
        EVENTS.append(("load", self.name, device))

    def unload(self) -> None:
        EVENTS.append(("unload", self.name, self.device))

    def size_bytes(self) -> int:
        return self.size

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        hooks.step(1, 1)
        return image


class ModelX(_Model):
    name = "model-x"


class ModelY(_Model):
    name = "model-y"


def test_cache_evicts_least_recently_used_over_budget():
    EVENTS.clear()
    cache = ModelCache("test:0", budget=100)
    x = cache.get("model-x", ModelX)
    assert cache.get("model-x", ModelX) is x  # loaded once
    cache.get("model-y", ModelY)
    assert EVENTS == [("load", "model-x", "test:0"), ("load", "model-y", "test:0"), ("unload", "model-x", "test:0")]
    assert "model-y" in cache and "model-x" not in cache
    assert cache.used() == 60


def test_jobs_go_to_the_device_that_has_their_model(tmp_path, picture, hole):
    EVENTS.clear()
    devices = [Device("test:0", "first", 1000), Device("test:1", "second", 1000)]
    engines = {**ENGINES, "model-x": ModelX, "model-y": ModelY}
    with live_server(tmp_path / "data", engines=engines, devices=devices) as server:
        image_id, mask_id = server.upload(picture)["id"], server.upload(hole)["id"]
        run = lambda engine: server.wait(server.submit(image=image_id, mask=mask_id, engine=engine).json()["id"])  # noqa: E731
        first = run("model-x")
        again = [run("model-x") for _ in range(3)]
        other = run("model-y")
    assert all(job["status"] == "succeeded" for job in [first, *again, other])
    assert {job["device"] for job in again} == {first["device"]}  # stays where the model is loaded
    assert other["device"] != first["device"]  # the idle, empty device takes the new model
    assert [e for e in EVENTS if e[0] == "load"] == [
        ("load", "model-x", first["device"]),
        ("load", "model-y", other["device"]),
    ]


def test_a_bug_in_a_job_reaches_the_client_as_an_error_id_and_the_log_with_its_traceback(
    tmp_path, picture, hole, caplog
):
    """The rule both pools share (`pool_base.job_error`); the Ray pool's side is in test_cluster.py."""
    devices = [Device("test:0", "first", 1000)]
    with live_server(tmp_path / "data", engines={**TEST_ENGINES, "faulty": FaultyEngine}, devices=devices) as server:
        image_id, mask_id = server.upload(picture)["id"], server.upload(hole)["id"]
        job = server.wait(server.submit(image=image_id, mask=mask_id, engine="faulty").json()["id"])
    assert job["status"] == "failed" and job["error"]["code"] == "internal_error"
    message = job["error"]["message"]
    assert "KeyError" not in message and FaultyEngine.SECRET not in message
    incident = message.rpartition("error id ")[2].rstrip(")")
    logged = [r.getMessage() for r in caplog.records if incident in r.getMessage()]
    assert logged and "KeyError" in logged[0] and FaultyEngine.SECRET in logged[0]
