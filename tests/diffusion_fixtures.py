"""Fixtures for the diffusion engines: tiny random pipelines of every family, saved and catalogued once per session.

Every model is saved as a diffusers folder, and SD 1.5 / SDXL inpainting also as one original-layout .safetensors
checkpoint and FLUX.1 Fill as its transformer alone (the way FLUX files are shared); all are
registered in a temporary catalog with a small native size, so a CPU job takes a fraction of a second while
running through exactly the loading and inference code users run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: catalog name -> (family, source under the model folder, config folder for single files)
TINY_MODELS = {
    "tiny-sd-inpaint": ("sd-inpaint", "sd-inpaint", None),
    "tiny-sd": ("sd", "sd", None),
    "tiny-sdxl-inpaint": ("sdxl-inpaint", "sdxl-inpaint", None),
    "tiny-sdxl": ("sdxl", "sdxl", None),
    "tiny-flux-fill": ("flux-fill", "flux-fill", None),
    "tiny-sd-inpaint-file": ("sd-inpaint", "sd-inpaint.safetensors", "sd-inpaint"),
    "tiny-sdxl-inpaint-file": ("sdxl-inpaint", "sdxl-inpaint.safetensors", "sdxl-inpaint"),
    "tiny-flux-fill-file": ("flux-fill", "flux-fill-transformer.safetensors", "flux-fill"),
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
    tm.write_sdxl_single_file(root / "sdxl-inpaint", root / "sdxl-inpaint.safetensors")
    tm.write_flux_single_file(root / "flux-fill", root / "flux-fill-transformer.safetensors")
    return root


@pytest.fixture(scope="session")
def tiny_catalog(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog of every tiny model (native size 64), written the way `retouch models add` writes it."""
    from retouch.catalog import Catalog, CatalogEntry, save_catalog

    entries = []
    for name, (family, source, config) in TINY_MODELS.items():
        source = str(tiny_model_dir / source)
        config = str(tiny_model_dir / config) if config else None
        entries.append(CatalogEntry(name=name, family=family, source=source, config=config, native_size=TINY_NATIVE))
    path = tmp_path_factory.mktemp("catalog") / "catalog.yaml"
    save_catalog(Catalog(models=entries), path)
    return path


@pytest.fixture(scope="session")
def loaded_engines(tiny_catalog: Path):
    """Engines by name, each loaded on the CPU once (like the server's model pool) and unloaded at the end."""
    from retouch.registry import build_registry

    factories = build_registry(tiny_catalog)
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
