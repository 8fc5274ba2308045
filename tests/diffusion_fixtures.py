"""Fixtures for the diffusion engines: tiny random pipelines of every family, saved and catalogued once per session.

Every model is saved as a diffusers folder (and SD 1.5 inpainting also as one original-layout .safetensors file)
and registered in a temporary catalog with a small native size, so a CPU job takes a fraction of a second while
running through exactly the loading and inference code users run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: catalog name -> (family, builder key)
TINY_MODELS = {
    "tiny-sd-inpaint": "sd-inpaint",
    "tiny-sd": "sd",
    "tiny-sdxl-inpaint": "sdxl-inpaint",
    "tiny-sdxl": "sdxl",
    "tiny-flux-fill": "flux-fill",
    "tiny-sd-inpaint-file": "sd-inpaint",
}
TINY_NATIVE = 64


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import tests.tiny_models as tm

    root = tmp_path_factory.mktemp("tiny-models")
    tm.build_sd(root / "sd-inpaint", inpainting=True)
    tm.build_sd(root / "sd", inpainting=False)
    tm.build_sdxl(root / "sdxl-inpaint", inpainting=True)
    tm.build_sdxl(root / "sdxl", inpainting=False)
    tm.build_flux_fill(root / "flux-fill")
    tm.write_sd_single_file(root / "sd-inpaint", root / "sd-inpaint.safetensors")
    return root


@pytest.fixture(scope="session")
def tiny_catalog(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog of every tiny model (native size 64), written the way `retouch models add` writes it."""
    from retouch.catalog import Catalog, CatalogEntry, save_catalog

    entries = []
    for name, family in TINY_MODELS.items():
        if name.endswith("-file"):
            source, config = str(tiny_model_dir / "sd-inpaint.safetensors"), str(tiny_model_dir / "sd-inpaint")
        else:
            source, config = str(tiny_model_dir / family), None
        entries.append(CatalogEntry(name=name, family=family, source=source, config=config, native_size=TINY_NATIVE))
    path = tmp_path_factory.mktemp("catalog") / "catalog.yaml"
    save_catalog(Catalog(models=entries), path)
    return path


@pytest.fixture(scope="session")
def loaded_engines(tiny_catalog: Path):
    """Engines by name, each loaded on the CPU once (like the server's model pool) and unloaded at the end."""
    from retouch.catalog import all_engines

    factories = all_engines(tiny_catalog)
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            engine = factories[name]()
            engine.load("cpu")
            cache[name] = engine
        return cache[name]

    yield get
    for engine in cache.values():
        engine.unload()
