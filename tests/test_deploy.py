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
    worker = compose()["services"]["gpu-worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"] and devices[0]["count"] == 1
    volumes = compose()["services"]["retouch"]["volumes"]
    assert any(v.endswith(":/data") for v in volumes)
    assert any(v.startswith("./models:") for v in volumes)
    assert "./models:/app/models" in worker["volumes"]  # the weights where the coordinator's catalog says
    assert "retouch-data" in compose()["volumes"]


def test_coordinator_is_the_ray_head_and_workers_scale_out_with_one_gpu_each():
    services = compose()["services"]
    assert set(services) == {"retouch", "gpu-worker"}
    head = services["retouch"]
    command = " ".join(head["command"])
    assert "ray start --head --port=6379" in command and "--num-gpus=0" in command
    assert command.index("ray start") < command.index("retouch serve")  # the server joins the head it started
    assert head["environment"]["RETOUCH_RAY"] == "auto" and head["environment"]["RETOUCH_RAY_CPU_WORKERS"] == "0"
    worker = services["gpu-worker"]
    assert worker["build"] == head["build"] and worker["image"] == head["image"]  # the same image
    assert worker["command"][:2] == ["ray", "start"] and "--address=retouch:6379" in worker["command"]
    assert "--num-gpus=1" in worker["command"] and "--block" in worker["command"]
    assert "container_name" not in worker  # `--scale gpu-worker=3` needs it unnamed


def test_no_ray_port_is_published():
    """Ray has no authentication: only the API's port leaves the compose network, on the host's loopback."""
    services = compose()["services"]
    assert services["retouch"]["ports"] == ["127.0.0.1:8000:8000"]
    assert "ports" not in services["gpu-worker"]
    assert all("expose" not in service and "network_mode" not in service for service in services.values())
    readme = (ROOT / "README.md").read_text()
    assert "Ray has no authentication" in readme and "ray start --address=" in readme


def test_kuberay_example_runs_the_coordinator_on_the_head_and_exposes_only_the_api():
    path = ROOT / "deploy" / "kuberay" / "retouch-raycluster.yaml"
    cluster, service = yaml.safe_load_all(path.read_text())
    assert cluster["kind"] == "RayCluster" and str(path.relative_to(ROOT)) in (ROOT / "README.md").read_text()
    (head,) = cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"]
    assert "retouch serve" in head["args"][0] and "--ray auto" in head["args"][0]
    (group,) = cluster["spec"]["workerGroupSpecs"]
    (worker,) = group["template"]["spec"]["containers"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1 and group["rayStartParams"]["num-gpus"] == "1"
    assert service["spec"]["type"] == "ClusterIP" and [p["port"] for p in service["spec"]["ports"]] == [8000]


def test_healthcheck_targets_the_health_endpoint():
    from retouch.server.app import API_PREFIX

    test = " ".join(compose()["services"]["retouch"]["healthcheck"]["test"])
    assert f"{API_PREFIX}/health" in test


def test_dockerfile_copies_only_what_exists():
    text = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, flags=re.M):
        assert (ROOT / source).exists(), source
    assert re.search(r"pip install \$\{TORCH_SPEC\}", text)
