"""`retouch models install | starter | verify | scan | remove`, against a real HTTP file server on 127.0.0.1
(with Range support) serving random models in the formats their publishers ship: a TorchScript LaMa (as
IOPaint's big-lama.pt), a Real-ESRGAN `.pth` with `params_ema`, GFPGAN's full-size `GFPGANv1.4.pth`; and against
a hub on 127.0.0.1 serving a segment-anything folder as huggingface.co does."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from retouch.catalog import load_catalog
from retouch.catalog.manifest import PURPOSES, STARTER_MANIFEST, load_manifest
from tests.file_server import serving
from tests.model_files import manifest_for, sha256
from tests.support import noise_with_a_hole


def test_the_starter_manifest_is_well_formed():
    """Every entry names its purpose, family, licence, size and a cited source; files carry published sums."""
    manifest = load_manifest(STARTER_MANIFEST)
    names = [m.name for m in manifest.models]
    for wanted in ("lama", "sd15-inpaint", "sdxl-inpaint", "flux-fill", "realesrgan-x4", "realesrgan-x2", "gfpgan"):
        assert wanted in names
    assert {m.purpose for m in manifest.models} == set(PURPOSES)
    assert {m.family for m in manifest.models if m.purpose == "segmentation"} == {"sam"}
    assert {m.repo for m in manifest.models if m.family == "sam"} >= {"facebook/sam-vit-base", "facebook/sam-vit-huge"}
    for entry in manifest.models:
        assert entry.licence and entry.size > 0 and entry.description
        if entry.files:
            assert not entry.size_approximate, f"{entry.name}: a file's size is known exactly"
            for item in entry.files:
                assert item.url.startswith("https://") and (item.sha256 or item.md5), entry.name
        else:
            assert entry.size_approximate and entry.repo, entry.name
    assert manifest.get("flux-fill").gated  # type: ignore[union-attr]
    assert "non-commercial" in manifest.get("codeformer").licence  # type: ignore[union-attr]
    assert manifest.get("lama").size == 205669692  # type: ignore[union-attr]
    # a comment above every entry says where its source (and sums) come from
    lines = STARTER_MANIFEST.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("  - name:")]
    cited = [i for i in starts if lines[i - 1].strip().startswith("#") or lines[i - 1].strip().startswith("- name")]
    assert len(starts) == len(names)
    uncited = [lines[i] for i in starts if i not in cited and not _block_cited(lines, i)]
    assert not uncited, f"entries without a source comment: {uncited}"


def _block_cited(lines: list[str], start: int) -> bool:
    """The entry shares the comment of the entry group above it (the SAM folders share one)."""
    for line in reversed(lines[:start]):
        if line.strip().startswith("#"):
            return True
        if line.startswith("  - name:"):
            return _block_cited(lines, lines.index(line))
    return False


def retouch(*args: str, tmp_path: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    """`retouch ARGS` in this process with a catalog and models folder under tmp_path."""
    from retouch.cli import main

    monkeypatch.setenv("RETOUCH_CATALOG", str(tmp_path / "catalog.yaml"))
    monkeypatch.delenv("RETOUCH_MODELS_DIR", raising=False)
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_install_registers_the_torchscript_lama_and_fills_with_it(tmp_path, file_server, served, monkeypatch, capsys):
    manifest = manifest_for(tmp_path, file_server, served[1])
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest))
    code, out, err = retouch("models", "starter", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert re.search(r"^lama\s+inpainting\s+\S+ MB\s+no\s+Apache-2.0", out, re.M), out

    code, out, err = retouch(
        "models", "install", "lama", "up2", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 0, err
    assert "installed lama (inpainting, Apache-2.0)" in out and "installed up2" in out
    catalog = load_catalog(tmp_path / "catalog.yaml")
    lama = catalog.get("lama")
    assert lama is not None and lama.architecture == "LaMa" and lama.purpose == "inpainting"  # type: ignore[union-attr]
    assert lama.downloaded and lama.sha256 == sha256(served[1]["lama"])
    up2 = catalog.get("up2")
    assert up2.architecture == "ESRGAN" and up2.scale == 2  # type: ignore[union-attr] # params_ema unwrapped
    assert (tmp_path / "models" / "lama" / "big-lama.pt").is_file()
    assert not list((tmp_path / "models").rglob("*.part"))

    code, out, _ = retouch("models", "starter", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert re.search(r"^lama\s+inpainting\s+\S+ MB\s+yes", out, re.M), out
    code, out, _ = retouch("models", "install", "lama", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert (code, out.strip()) == (0, "lama is already installed")
    assert file_server.sent("big-lama.pt") == served[1]["lama"].stat().st_size, "downloaded once"

    # a fill through the installed LaMa: the region changes, every pixel outside it stays as it was
    photo, hole, pixels, mask = noise_with_a_hole(tmp_path, 40, 48)
    code, _, err = retouch(
        "inpaint", str(photo), str(hole), "-o", str(tmp_path / "out.png"),
        "--engine", "lama", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    result = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    assert np.array_equal(result[mask == 0], pixels[mask == 0])
    assert not np.array_equal(result[mask > 0], pixels[mask > 0])

    # verify hashes again; a changed file is named
    code, out, _ = retouch("models", "verify", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and re.search(r"^lama\s+ok", out, re.M), out
    with open(tmp_path / "models" / "lama" / "big-lama.pt", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    code, out, err = retouch("models", "verify", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and re.search(r"^lama\s+MISMATCH", out, re.M) and "lama" in err

    # remove deletes what install downloaded, and unregisters it
    code, out, _ = retouch("models", "remove", "lama", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "deleted" in out
    assert not (tmp_path / "models" / "lama").exists()
    assert load_catalog(tmp_path / "catalog.yaml").get("lama") is None


def test_an_interrupted_download_resumes_from_the_part_file(tmp_path, file_server, served, monkeypatch, capsys):
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest_for(tmp_path, file_server, served[1])))
    name = "RealESRGAN_x2plus.pth"
    size = served[1]["esrgan"].stat().st_size
    file_server.cut_after[name] = size // 2  # the server drops the connection half way
    code, _, err = retouch("models", "install", "up2", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "interrupted" in err and "resume" in err, err
    part = tmp_path / "models" / "up2" / f"{name}.part"
    assert part.stat().st_size == size // 2
    assert not (tmp_path / "catalog.yaml").exists(), "nothing half-written is registered"

    code, out, err = retouch("models", "install", "up2", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert f"resumed from {size // 2:,} bytes kept" in out
    assert [(s.range, s.status) for s in file_server.log] == [(None, 200), (f"bytes={size // 2}-", 206)]
    assert file_server.sent(name) == size, "every byte crossed the network once"
    assert sha256(tmp_path / "models" / "up2" / name) == sha256(served[1]["esrgan"])
    assert load_catalog(tmp_path / "catalog.yaml").get("up2") is not None


def test_a_wrong_checksum_deletes_the_part_and_registers_nothing(tmp_path, file_server, served, monkeypatch, capsys):
    wrong = "0" * 32
    url = f"{file_server.url}/RealESRGAN_x2plus.pth"
    manifest = manifest_for(tmp_path, file_server, served[1], esrgan={"files": [{"url": url, "md5": wrong}]})
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest))
    code, _, err = retouch("models", "install", "up2", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    actual = hashlib.md5(served[1]["esrgan"].read_bytes()).hexdigest()
    assert f"md5 mismatch: the manifest says {wrong}, the download is {actual}" in err, "both sums named"
    assert not list((tmp_path / "models").rglob("RealESRGAN_x2plus.pth*"))
    assert not (tmp_path / "catalog.yaml").exists()


def test_no_disk_space_refuses_before_downloading(tmp_path, file_server, served, monkeypatch, capsys):
    manifest = manifest_for(tmp_path, file_server, served[1], lama={"size": 10**18})
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest))
    code, _, err = retouch("models", "install", "lama", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "not enough disk space for lama" in err and "1,000,000,000,000,000,000 bytes" in err
    assert "free" in err
    assert file_server.log == [], "nothing was requested"


def test_two_installs_of_the_same_model_at_once_download_it_once(tmp_path, file_server, served, monkeypatch):
    from retouch.catalog.install import install

    catalog = tmp_path / "catalog.yaml"
    monkeypatch.delenv("RETOUCH_MODELS_DIR", raising=False)
    entry = load_manifest(manifest_for(tmp_path, file_server, served[1])).get("lama")
    assert entry is not None
    results: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(install(entry, catalog).status)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(results) == ["already installed", "installed"]
    assert file_server.sent("big-lama.pt") == served[1]["lama"].stat().st_size
    assert [m.name for m in load_catalog(catalog).models] == ["lama"]


def test_download_only_fetches_without_registering_and_offline_hub_is_named(
    tmp_path, file_server, served, monkeypatch, capsys
):
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest_for(tmp_path, file_server, served[1])))
    code, out, err = retouch(
        "models",
        "install",
        "--purpose",
        "upscaling",
        "--download-only",
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0, err
    assert "downloaded up2" in out and (tmp_path / "models" / "up2" / "RealESRGAN_x2plus.pth").is_file()
    assert not (tmp_path / "catalog.yaml").exists()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = retouch("models", "install", "sam-tiny", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "nobody/not-a-cached-sam is not in the Hugging Face cache and HF_HUB_OFFLINE is set" in err
    code, _, err = retouch("models", "install", "nothing", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "no model named 'nothing' in the manifest" in err


def test_scan_registers_another_tools_models_by_path_and_says_what_it_skipped(tmp_path, served, monkeypatch, capsys):
    """A ComfyUI models folder: an upscaler is registered where it is; LoRAs and non-models are skipped."""
    import shutil

    import torch
    from safetensors.torch import save_file

    comfy = tmp_path / "ComfyUI" / "models"
    (comfy / "upscale_models").mkdir(parents=True)
    shutil.copy(served[1]["esrgan"], comfy / "upscale_models" / "RealESRGAN_x2plus.pth")
    (comfy / "loras").mkdir()
    save_file({"w": torch.zeros(2)}, str(comfy / "loras" / "style.safetensors"))
    (comfy / "facerestore_models").mkdir()
    save_file({"w": torch.zeros(2)}, str(comfy / "facerestore_models" / "random.safetensors"))
    code, out, err = retouch(
        "models", "scan", str(tmp_path / "ComfyUI"), tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 0, err
    assert "added RealESRGAN_x2plus (ESRGAN 2x, upscaling)" in out
    assert re.search(r"skipped .*loras: add-ons", out)
    assert re.search(r"skipped .*random.safetensors: .*not a model architecture spandrel knows", out)
    entry = load_catalog(tmp_path / "catalog.yaml").get("RealESRGAN_x2plus")
    assert (
        entry is not None
        and entry.path(tmp_path).resolve() == (comfy / "upscale_models" / "RealESRGAN_x2plus.pth").resolve()
    )  # type: ignore[union-attr]
    assert not entry.downloaded
    code, out, _ = retouch(
        "models", "scan", str(tmp_path / "ComfyUI"), tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys
    )
    assert "already in the catalog as RealESRGAN_x2plus" in out
    # removing a scanned model unregisters it and leaves the user's file alone
    code, out, _ = retouch(
        "models", "remove", "RealESRGAN_x2plus", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 0 and "deleted" not in out
    assert (comfy / "upscale_models" / "RealESRGAN_x2plus.pth").is_file()


def test_a_gated_hub_model_answering_401_says_how_to_accept_its_licence(tmp_path, monkeypatch):
    """The hub is this test's server (HF_ENDPOINT), refusing the repository as huggingface.co does a gated one."""
    from tests.support import run_cli

    entry = {
        "name": "flux-fill",
        "purpose": "inpainting",
        "family": "flux-fill",
        "licence": "FLUX.1 [dev] Non-Commercial License",
        "size": 1000,
        "size_approximate": True,
        "gated": True,
        "repo": "black-forest-labs/FLUX.1-Fill-dev",
    }
    manifest = one_entry_manifest(tmp_path, entry)
    hub_install_env(tmp_path, monkeypatch)
    with serving(tmp_path) as hub:
        hub.refuse["/api/"] = 401
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        done = run_cli("models", "install", "flux-fill", "--manifest", manifest)
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert lines == [
            "retouch: error: flux-fill: black-forest-labs/FLUX.1-Fill-dev is gated (no HF_TOKEN is set): accept its licence "
            "at https://huggingface.co/black-forest-labs/FLUX.1-Fill-dev while logged in, then set HF_TOKEN to a read "
            "token from https://huggingface.co/settings/tokens"
        ], done.stderr
        assert any(s.path.startswith("/api/models/black-forest-labs/FLUX.1-Fill-dev") for s in hub.log)


def one_entry_manifest(tmp_path: Path, entry: dict) -> Path:
    """A manifest file of one model entry."""
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"models": [entry]}))
    return manifest


def hub_install_env(tmp_path: Path, monkeypatch) -> Path:
    """`retouch` in a subprocess with its own Hugging Face cache and catalog under tmp_path, no token, online
    (HF_ENDPOINT is the test's hub, set once it runs); the catalog's path."""
    catalog = tmp_path / "catalog.yaml"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("RETOUCH_CATALOG", str(catalog))
    for key in ("HF_HUB_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return catalog


def test_a_hub_folder_installs_through_the_hub_registers_in_place_and_selects_at_once(tmp_path, monkeypatch):
    """A starter entry that is a hub repository (the segment-anything models, the diffusion pipelines), fetched by
    huggingface_hub from a hub on 127.0.0.1 (HF_ENDPOINT): only the files the entry allows, registered where the
    hub's cache keeps them (by its id: nothing copied), usable at once; installing again fetches nothing."""
    from tests.hub_server import hub_serving
    from tests.select_scenes import cat_on
    from tests.support import run_cli
    from tests.tiny_sam import save_tiny_sam

    repo = save_tiny_sam(tmp_path / "repo")
    (repo / "README.md").write_text("the model card: not a file Retouch loads")
    (repo / "flax_model.msgpack").write_bytes(b"\0" * 4096)  # weights for another library
    entry = {
        "name": "sam-tiny",
        "purpose": "segmentation",
        "family": "sam",
        "licence": "Apache-2.0",
        "size": sum(p.stat().st_size for p in repo.iterdir()),
        "size_approximate": True,
        "description": "a tiny random segment-anything model",
        "repo": "retouch-tests/sam-tiny",
        "allow": ["*.json", "*.safetensors", "*.txt"],
    }
    manifest = one_entry_manifest(tmp_path, entry)
    catalog, cache = hub_install_env(tmp_path, monkeypatch), tmp_path / "hf"

    with hub_serving({"retouch-tests/sam-tiny": repo}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        # damaged on the way (huggingface_hub itself does not hash what arrives): both sums are checked
        hub.corrupt = {"retouch-tests/sam-tiny/model.safetensors", "retouch-tests/sam-tiny/config.json"}
        damaged = run_cli("models", "install", "sam-tiny", "--manifest", manifest)
        assert damaged.returncode == 2, damaged.stderr
        assert re.search(
            r"config\.json: git blob sha1 mismatch: the hub says [0-9a-f]{40}, the download is", damaged.stderr
        )
        assert re.search(
            r"model\.safetensors: sha256 mismatch: the hub says [0-9a-f]{64}, the download is", damaged.stderr
        )
        assert "those files were deleted and nothing was registered" in damaged.stderr
        assert not catalog.exists()

        hub.corrupt.clear()
        hub.log.clear()
        done = run_cli("models", "install", "sam-tiny", "--manifest", manifest)
        assert done.returncode == 0, done.stderr
        fetched = sorted(hub.downloads())  # only what was deleted: the good files stayed in the cache
        assert fetched == ["retouch-tests/sam-tiny/config.json", "retouch-tests/sam-tiny/model.safetensors"]
        wanted = [p.name for p in repo.iterdir() if p.suffix in (".json", ".safetensors")]
        installed = load_catalog(catalog).get("sam-tiny")
        assert installed is not None and installed.family == "sam"
        assert installed.source == "hub:retouch-tests/sam-tiny"  # loaded from the hub's cache by its id
        (folder,) = (cache / "hub" / "models--retouch-tests--sam-tiny" / "snapshots").iterdir()
        assert sorted(p.name for p in folder.iterdir()) == sorted(wanted)

        again = run_cli("models", "install", "sam-tiny", "--manifest", manifest)
        assert again.returncode == 0 and "already" in again.stdout + again.stderr, again.stdout + again.stderr
        assert sorted(hub.downloads()) == fetched  # nothing fetched twice

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub is gone: the model works from the cache
    picture, truth, _ = cat_on("coffee")
    Image.fromarray(picture).save(tmp_path / "scene.png")
    selected = run_cli(
        "select", tmp_path / "scene.png", "--point", "150,170", "--model", "sam-tiny", "-o", tmp_path / "mask.png"
    )
    assert selected.returncode == 0, selected.stderr
    assert "by sam-tiny" in selected.stderr
    assert np.asarray(Image.open(tmp_path / "mask.png")).shape == truth.shape


def test_a_gfpgan_release_file_installs_as_a_face_restorer_and_fixes_a_face(tmp_path, monkeypatch, capsys):
    """GFPGAN ships `GFPGANv1.4.pth`: its state dict under `params_ema`, 350 MB at full size (built here with
    random weights, spandrel's own architecture). Installed from the local server, it is registered as a face
    restorer and `retouch faces --restorer` runs it on a box, leaving every pixel outside the box as it was."""
    import torch

    from tests.tiny_spandrel import gfpgan, save_params_ema

    served = tmp_path / "served"
    served.mkdir()
    torch.manual_seed(2)
    release = save_params_ema(gfpgan(), served / "GFPGANv1.4.pth")
    with serving(served) as server:
        entry = {
            "name": "gfpgan",
            "purpose": "faces",
            "family": "spandrel",
            "licence": "Apache-2.0",
            "size": release.stat().st_size,
            "files": [{"url": f"{server.url}/GFPGANv1.4.pth", "sha256": sha256(release)}],
        }
        monkeypatch.setenv("RETOUCH_MANIFEST", str(one_entry_manifest(tmp_path, entry)))
        code, out, err = retouch(
            "models", "install", "gfpgan", tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys
        )
    assert code == 0, err
    installed = load_catalog(tmp_path / "catalog.yaml").get("gfpgan")
    assert installed is not None and installed.architecture == "GFPGAN", installed  # type: ignore[union-attr]
    assert installed.purpose == "face-restoration" and installed.sha256 == sha256(release)  # type: ignore[union-attr]

    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
    Image.fromarray(picture).save(tmp_path / "face.png")
    code, _, err = retouch(
        "faces", str(tmp_path / "face.png"), "--box", "40,40,64,64", "--restorer", "gfpgan",
        "-o", str(tmp_path / "fixed.png"), tmp_path=tmp_path, monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    fixed = np.asarray(Image.open(tmp_path / "fixed.png"))[..., :3]
    outside = np.ones((160, 160), bool)
    outside[24:120, 24:120] = False  # the box with room for the paste's feather
    assert np.array_equal(fixed[outside], picture[outside])
    assert np.abs(fixed[56:88, 56:88].astype(int) - picture[56:88, 56:88]).mean() > 5, "the restorer changed nothing"


def test_the_starter_sd15_inpainting_entry_fetches_what_its_pipeline_needs_and_fills(tmp_path, monkeypatch):
    """The starter manifest's SD 1.5 inpainting entry, pointed at a hub on 127.0.0.1 serving a diffusers folder
    (tiny random weights, the real layout, plus the fp16 and non-EMA variants a hub repository also holds):
    its allow and ignore patterns fetch exactly the pipeline, and a prompted fill runs from the cache."""
    import shutil

    from tests.hub_server import hub_serving
    from tests.support import run_cli
    from tests.tiny_models import build_sd

    repo = build_sd(tmp_path / "repo", inpainting=True)
    for weights in list(repo.rglob("*.safetensors")):  # the variants a download must leave alone
        shutil.copy(weights, weights.with_name(weights.stem + ".fp16.safetensors"))
        shutil.copy(weights, weights.with_name(weights.stem + ".non_ema.safetensors"))
    (repo / "sd-v1-5-inpainting.ckpt").write_bytes(b"\0" * 4096)  # the original checkpoint, not wanted either
    starter = next(m for m in load_manifest(STARTER_MANIFEST).models if m.name == "sd15-inpaint")
    entry = starter.model_dump(mode="json", exclude_none=True) | {"repo": "retouch-tests/sd-inpaint"}
    entry["size"] = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file())
    manifest = one_entry_manifest(tmp_path, entry)
    hub_install_env(tmp_path, monkeypatch)

    with hub_serving({"retouch-tests/sd-inpaint": repo}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        done = run_cli("models", "install", "sd15-inpaint", "--manifest", manifest)
        assert done.returncode == 0, done.stderr
        fetched = {name.split("/", 2)[2] for name in hub.downloads()}
    pipeline = {
        p.relative_to(repo).as_posix()
        for p in repo.rglob("*")
        if p.is_file() and not {".fp16", ".non_ema"} & set(p.suffixes) and p.suffix != ".ckpt"
    }
    assert fetched == pipeline, fetched ^ pipeline

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub is gone: the model loads from the cache
    photo, hole, picture, mask = noise_with_a_hole(tmp_path, 64, 64)
    filled = run_cli(
        "inpaint", photo, hole, "--engine", "sd15-inpaint", "--prompt", "a red cup",
        "--steps", "2", "--scale", "none", "--feather", "0", "-o", tmp_path / "out.png",
    )  # fmt: skip
    assert filled.returncode == 0, filled.stderr
    out = np.asarray(Image.open(tmp_path / "out.png"))[..., :3]
    assert np.array_equal(out[mask == 0], picture[mask == 0])
    assert np.abs(out[mask > 0].astype(int) - picture[mask > 0]).mean() > 5
