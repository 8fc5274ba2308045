"""docker-compose.yml and the Dockerfile: Docker does not run here, so their promises are checked as text."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_service_builds_from_the_dockerfile_and_publishes_on_loopback_only():
    service = compose()["services"]["retouch"]
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["ports"] == ["127.0.0.1:8000:8000"]


def test_token_is_required_because_the_container_listens_beyond_loopback():
    service = compose()["services"]["retouch"]
    assert ":?" in service["environment"]["RETOUCH_TOKEN"]  # compose refuses to start without it
    assert "--host" in (ROOT / "Dockerfile").read_text() and "0.0.0.0" in (ROOT / "Dockerfile").read_text()
    assert "RETOUCH_TOKEN" in " ".join(service["healthcheck"]["test"])


def test_gpu_is_reserved_and_data_and_models_persist():
    service = compose()["services"]["retouch"]
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    volumes = service["volumes"]
    assert any(v.endswith(":/data") for v in volumes)
    assert any(v.startswith("./models:") for v in volumes)
    assert "retouch-data" in compose()["volumes"]


def test_healthcheck_targets_the_health_endpoint():
    from retouch.server.app import API_PREFIX

    test = " ".join(compose()["services"]["retouch"]["healthcheck"]["test"])
    assert f"{API_PREFIX}/health" in test


def test_dockerfile_copies_only_what_exists():
    text = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, flags=re.M):
        assert (ROOT / source).exists(), source
    assert re.search(r"pip install \$\{TORCH_SPEC\}", text)
