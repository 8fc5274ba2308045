"""Fixtures for spandrel models: each tiny (or, where spandrel fixes the size, full-size) random model is built
and saved on first use, once per session, and loaded engines are shared by the tests that only run them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def spandrel_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`spandrel_file(name, kind="safetensors")`: the saved model `name` of `tests.tiny_spandrel.BUILDERS`."""
    import tests.tiny_spandrel as ts

    root = tmp_path_factory.mktemp("spandrel-models")
    built: dict[str, dict[str, Path]] = {}

    def get(name: str, kind: str = "safetensors") -> Path:
        if name not in built:
            built[name] = ts.build(name, root)
        return built[name][kind]

    return get


@pytest.fixture(scope="session")
def spandrel_loaded(spandrel_file: Callable[..., Path]) -> Callable[[str], object]:
    """`spandrel_loaded(name)`: the engine for model `name`, loaded on the CPU (shared: tests must not change it)."""
    from retouch.engines.spandrel import inspect_file, spandrel_engine

    loaded: dict[str, object] = {}

    def get(name: str) -> object:
        if name not in loaded:
            path = spandrel_file(name)
            engine = spandrel_engine(name, path, inspect_file(path))
            engine.load("cpu")
            loaded[name] = engine
        return loaded[name]

    return get


#: catalog name -> (model in tests.tiny_spandrel, file kind): both formats, every purpose
CATALOG_MODELS = {
    "lama": ("lama", "safetensors"),
    "mat": ("mat", "safetensors"),
    "up4": ("compact-x4", "pth"),
    "up2": ("esrgan-x2", "safetensors"),
    "faces": ("restoreformer", "pth"),
}


@pytest.fixture(scope="session")
def spandrel_catalog(tmp_path_factory: pytest.TempPathFactory, spandrel_file: Callable[..., Path]) -> Path:
    """A catalog of CATALOG_MODELS, each added by `retouch models add` (run in this process)."""
    from retouch.cli import main

    path = tmp_path_factory.mktemp("spandrel-catalog") / "catalog.yaml"
    for name, (model, kind) in CATALOG_MODELS.items():
        assert main(["models", "add", str(spandrel_file(model, kind)), "--name", name, "--catalog", str(path)]) == 0
    return path
