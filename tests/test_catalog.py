"""The model catalog: family detection, registering models, reading and writing the YAML, the engine table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from retouch.catalog import (
    Catalog,
    CatalogEntry,
    add_model,
    default_catalog_path,
    detect_family,
    load_catalog,
    presence,
    resolve_source,
    save_catalog,
    user_catalog_path,
)
from retouch.engines import ENGINES
from retouch.errors import InputError
from retouch.registry import build_registry


@pytest.mark.parametrize(
    "folder, family",
    [
        ("sd-inpaint", "sd-inpaint"),
        ("sd", "sd"),
        ("sdxl-inpaint", "sdxl-inpaint"),
        ("sdxl", "sdxl"),
        ("flux-fill", "flux-fill"),
    ],
)
def test_detects_the_family_of_diffusers_folders(tiny_model_dir, folder, family):
    assert detect_family(tiny_model_dir / folder) == (family, None)


def test_detects_a_single_file_checkpoint_from_its_header(tiny_model_dir):
    assert detect_family(tiny_model_dir / "sd-inpaint.safetensors") == ("sd-inpaint", None)
    assert detect_family(tiny_model_dir / "sdxl-inpaint.safetensors") == ("sdxl-inpaint", None)


def fake_checkpoint(path: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    """A .safetensors file with the tensor names and shapes of a real checkpoint (zeros; detection reads the header)."""
    save_file({name: torch.zeros(shape, dtype=torch.float16) for name, shape in shapes.items()}, path)
    return path


def test_detects_sd2_sdxl_and_flux_checkpoints(tmp_path):
    unet = "model.diffusion_model."
    sd2 = fake_checkpoint(
        tmp_path / "sd2-inpaint.safetensors",
        {
            unet + "input_blocks.0.0.weight": (320, 9, 3, 3),
            unet + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (320, 1024),
        },
    )
    assert detect_family(sd2) == ("sd-inpaint", "stabilityai/stable-diffusion-2-inpainting")
    xl = fake_checkpoint(
        tmp_path / "xl.safetensors",
        {
            unet + "input_blocks.0.0.weight": (320, 4, 3, 3),
            unet + "label_emb.0.0.weight": (1280, 2816),
            "conditioner.embedders.1.model.positional_embedding": (77, 8),
        },
    )
    assert detect_family(xl) == ("sdxl", None)
    fill = fake_checkpoint(
        tmp_path / "flux1-fill.safetensors",
        {"img_in.weight": (3072, 384), "double_blocks.0.img_attn.qkv.weight": (8, 8)},
    )
    assert detect_family(fill) == ("flux-fill", None)
    dev = fake_checkpoint(
        tmp_path / "flux1-dev.safetensors", {"img_in.weight": (3072, 64), "double_blocks.0.img_attn.qkv.weight": (8, 8)}
    )
    with pytest.raises(InputError, match="not FLUX.1 Fill"):
        detect_family(dev)
    vae = fake_checkpoint(tmp_path / "vae.safetensors", {"encoder.conv_in.weight": (8, 3, 3, 3)})
    with pytest.raises(InputError, match="no UNet or FLUX transformer"):
        detect_family(vae)


def test_refuses_pickles_and_non_models(tmp_path):
    (tmp_path / "model.ckpt").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match=r"pickle.*\.safetensors"):
        detect_family(tmp_path / "model.ckpt")
    (tmp_path / "notes.safetensors").write_text("hello")
    with pytest.raises(InputError, match="not a valid .safetensors"):
        detect_family(tmp_path / "notes.safetensors")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="model_index.json"):
        detect_family(tmp_path / "empty")


def test_add_model_registers_detects_and_round_trips(tmp_path, tiny_model_dir):
    catalog_path = tmp_path / "models" / "catalog.yaml"
    inside = tmp_path / "models" / "weights" / "sdxl-inpaint"
    shutil.copytree(tiny_model_dir / "sdxl-inpaint", inside)

    entry = add_model(catalog_path, str(inside), "xl-inpaint")
    assert entry.family == "sdxl-inpaint"
    assert entry.source == "./weights/sdxl-inpaint"  # inside the catalog's folder: stored relative, moves with it
    single = add_model(
        catalog_path,
        str(tiny_model_dir / "sd-inpaint.safetensors"),
        "sd-file",
        config=str(tiny_model_dir / "sd-inpaint"),
    )
    assert single.family == "sd-inpaint" and single.config == str(tiny_model_dir / "sd-inpaint")
    hub = add_model(catalog_path, "black-forest-labs/FLUX.1-Fill-dev", "flux", family="flux-fill")
    assert resolve_source(hub.source, catalog_path.parent).kind == "hub"

    catalog = load_catalog(catalog_path)
    assert [m.name for m in catalog.models] == ["xl-inpaint", "sd-file", "flux"]
    assert presence(catalog.get("xl-inpaint"), catalog_path.parent)[0] is True
    assert presence(catalog.get("sd-file"), catalog_path.parent)[0] is True

    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "models", moved)
    assert presence(load_catalog(moved / "catalog.yaml").get("xl-inpaint"), moved)[0] is True


def test_add_model_refuses_clashes_and_guesses(tmp_path, tiny_model_dir):
    catalog_path = tmp_path / "catalog.yaml"
    add_model(catalog_path, str(tiny_model_dir / "sd"), "sd")
    with pytest.raises(InputError, match="already has a model named 'sd'"):
        add_model(catalog_path, str(tiny_model_dir / "sd-inpaint"), "sd")
    with pytest.raises(InputError, match="built-in engine"):
        add_model(catalog_path, str(tiny_model_dir / "sd-inpaint"), "patchmatch", reserved=ENGINES)
    with pytest.raises(InputError, match="hub id; give its family"):
        add_model(catalog_path, "someone/some-model", "hub")
    with pytest.raises(InputError, match="looks like sd-inpaint, not sdxl"):
        add_model(catalog_path, str(tiny_model_dir / "sd-inpaint"), "x", family="sdxl")
    with pytest.raises(InputError, match="does not exist"):
        add_model(catalog_path, str(tmp_path / "nowhere"), "x")
    assert [m.name for m in load_catalog(catalog_path).models] == ["sd"]  # failed adds wrote nothing


def test_broken_catalogs_are_clear_errors(tmp_path):
    path = tmp_path / "catalog.yaml"
    with pytest.raises(InputError, match="does not exist"):
        load_catalog(path)
    path.write_text("models:\n  - {name: a, family: sd3, source: x}\n")
    with pytest.raises(InputError, match=r"family.*'sd3'"):
        load_catalog(path)
    path.write_text("models:\n  - {name: a, family: sd, source: x, colour: red}\n")
    with pytest.raises(InputError, match="colour"):
        load_catalog(path)
    path.write_text("models: [\n")
    with pytest.raises(InputError, match="cannot be read"):
        load_catalog(path)
    path.write_text("models:\n  - {name: a, family: sd, source: x}\n  - {name: a, family: sd, source: y}\n")
    with pytest.raises(InputError, match="names a more than once"):
        load_catalog(path)


def test_speed_options_are_catalog_settings_checked_when_read(tmp_path):
    """Speed options are fields of an entry: what a model cannot do is refused naming the option, not ignored."""
    path = tmp_path / "catalog.yaml"
    lama = "{name: l, family: spandrel, source: l.pth, architecture: LaMa, purpose: inpainting, supports_bfloat16: true"
    path.write_text(
        "models:\n  - {name: s, family: sdxl-inpaint, source: x, dtype: float16,"
        " speed: {compile: true, channels_last: true, attention: classic, vae_tiling: 'on'}}\n"
        f"  - {lama}, dtype: bfloat16, speed: {{channels_last: true}}}}\n"
    )
    sdxl, spandrel = load_catalog(path).models
    assert sdxl.speed.changed() == {"compile": True, "channels_last": True, "attention": "classic", "vae_tiling": "on"}
    assert spandrel.dtype == "bfloat16" and spandrel.speed.channels_last
    refused = {
        "speed: {attention: classic}": "applies to diffusion models only",
        "dtype: float16": "does not run in float16",
        "speed: {fast: true}": "fast",
    }
    for extra, message in refused.items():
        path.write_text(f"models:\n  - {lama}, {extra}}}\n")
        with pytest.raises(InputError, match=message):
            load_catalog(path)
    path.write_text("models:\n  - {name: f, family: flux-fill, source: x, speed: {attention: classic}}\n")
    with pytest.raises(InputError, match="FLUX.1 Fill runs only sdpa"):
        load_catalog(path)


def test_the_registry_is_the_classical_table_plus_the_catalog(tmp_path, tiny_catalog, monkeypatch):
    table = build_registry(tiny_catalog)
    assert set(ENGINES) <= set(table)
    assert {"tiny-sd", "tiny-flux-fill"} <= set(table)
    assert table["tiny-sd"]().native_size == 64

    # default catalog: $RETOUCH_CATALOG, else the user's config folder's, else only the classical engines
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("RETOUCH_CATALOG", raising=False)
    assert user_catalog_path() == tmp_path / "config" / "retouch" / "catalog.yaml"
    assert default_catalog_path() is None
    assert set(build_registry()) == set(ENGINES)
    save_catalog(Catalog(models=[CatalogEntry(name="here", family="sd", source="./here")]), user_catalog_path())
    assert "here" in build_registry()
    monkeypatch.setenv("RETOUCH_CATALOG", str(tiny_catalog))
    assert "tiny-sdxl" in build_registry() and "here" not in build_registry()


def test_a_model_cannot_hide_a_builtin_engine(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("models:\n  - {name: telea, family: sd, source: ./x}\n")
    with pytest.raises(InputError, match="'telea' has the name of a built-in engine"):
        build_registry(path)


def test_a_single_file_is_present_only_with_its_layout(tmp_path, tiny_model_dir):
    checkpoint = str(tiny_model_dir / "sd-inpaint.safetensors")
    layout = str(tiny_model_dir / "sd-inpaint")
    with_layout = CatalogEntry(name="a", family="sd-inpaint", source=checkpoint, config=layout)
    assert presence(with_layout, tmp_path) == (True, checkpoint)
    (tmp_path / "empty").mkdir()
    broken_layout = CatalogEntry(name="b", family="sd-inpaint", source=checkpoint, config="./empty")
    present, why = presence(broken_layout, tmp_path)
    assert present is False and "not a diffusers folder" in why
