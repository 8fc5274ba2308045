"""Model files served to download tests: a real HTTP file server on 127.0.0.1 over tiny random models in the
formats their publishers ship (a TorchScript LaMa as IOPaint's big-lama.pt; a Real-ESRGAN `.pth` with
`params_ema`), and a manifest pointing at them with their true sums."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.file_server import FileServer, serving
from tests.tiny_spandrel import esrgan_x2, save_params_ema, save_torchscript_lama


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """The files a test manifest points at: a TorchScript LaMa, a Real-ESRGAN .pth, a params_ema .pth."""
    import torch

    root = tmp_path_factory.mktemp("served")
    torch.manual_seed(1)
    files = {
        "lama": save_torchscript_lama(root / "big-lama.pt"),
        "esrgan": save_params_ema(esrgan_x2(), root / "RealESRGAN_x2plus.pth"),
    }
    return root, files


@pytest.fixture
def file_server(served) -> Iterator[FileServer]:
    with serving(served[0]) as state:
        yield state


def manifest_for(tmp_path: Path, server: FileServer, served_files: dict[str, Path], **changes) -> Path:
    """A test manifest pointing at the local server, with the served files' true sums unless changed."""
    entries = {
        "lama": {
            "name": "lama",
            "purpose": "inpainting",
            "family": "spandrel",
            "licence": "Apache-2.0",
            "size": served_files["lama"].stat().st_size,
            "files": [{"url": f"{server.url}/big-lama.pt", "sha256": sha256(served_files["lama"])}],
        },
        "esrgan": {
            "name": "up2",
            "purpose": "upscaling",
            "family": "spandrel",
            "licence": "BSD-3-Clause",
            "size": served_files["esrgan"].stat().st_size,
            "files": [
                {
                    "url": f"{server.url}/RealESRGAN_x2plus.pth",
                    "md5": hashlib.md5(served_files["esrgan"].read_bytes()).hexdigest(),
                }
            ],
        },
        "sam": {
            "name": "sam-tiny",
            "purpose": "segmentation",
            "family": "sam",
            "licence": "Apache-2.0",
            "size": 1000,
            "size_approximate": True,
            "repo": "nobody/not-a-cached-sam",
        },
    }
    for key, change in changes.items():
        entries[key].update(change)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump({"models": list(entries.values())}))
    return path
