"""The canvas's API client is generated from the server's OpenAPI: this fails when it is stale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "frontend" / "scripts" / "gen_api.py"
GENERATOR = ROOT / "frontend" / "node_modules" / ".bin" / "openapi-typescript"


def test_generated_client_matches_the_server():
    if shutil.which("node") is None:
        pytest.skip("Node is not installed; the canvas cannot be built here")
    assert GENERATOR.exists(), "frontend/node_modules is missing: run `make test` (it runs npm ci)"
    # this checkout's server, whatever checkout the environment's package was installed from
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "backend"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, (
        "frontend/src/api/schema.ts no longer matches the server's OpenAPI; run `make api-client` and commit it.\n"
        + result.stderr
    )
