"""Spandrel models built from spandrel's own architecture classes with random weights, as spandrel's tests do.

Upscalers and RestoreFormer are tiny (a few thousand to a million parameters); LaMa, MAT, GFPGAN and CodeFormer
have (almost) no size hyperparameters in spandrel, so they are full size (50-90 M parameters, built in a second or
two) and tests run them on small pictures. Each model is saved as `.safetensors` and as a `.pth` state dict,
the two ways people download them; nothing is downloaded here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def lama() -> torch.nn.Module:
    """Big-LaMa's layout: image and mask in (4 channels), RGB out."""
    from spandrel.architectures.LaMa import LaMa

    return LaMa(in_nc=4, out_nc=3)


def mat() -> torch.nn.Module:
    from spandrel_extra_arches.architectures.MAT import MAT

    return MAT()


def compact_x4() -> torch.nn.Module:
    """Real-ESRGAN's Compact (SRVGG) layout, x4, with 8 features and 2 body convolutions."""
    from spandrel.architectures.Compact import Compact

    return Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=4)


def esrgan_x2() -> torch.nn.Module:
    """ESRGAN (RRDBNet) x2 with one residual-in-residual block of 8 features."""
    from spandrel.architectures.ESRGAN import ESRGAN

    return ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=2)


def restoreformer() -> torch.nn.Module:
    """RestoreFormer with 32 base channels (GroupNorm needs 32) and six levels, so its attention runs at 16x16."""
    from spandrel.architectures.RestoreFormer import RestoreFormer

    return RestoreFormer(n_embed=32, embed_dim=32, ch=32, ch_mult=(1, 1, 1, 1, 1, 2), num_res_blocks=1, z_channels=32)


def gfpgan() -> torch.nn.Module:
    from spandrel.architectures.GFPGAN import GFPGAN

    return GFPGAN()


def codeformer() -> torch.nn.Module:
    """CodeFormer with a one-layer, 32-wide transformer (its VQGAN encoder and decoder have fixed sizes)."""
    from spandrel_extra_arches.architectures.CodeFormer import CodeFormer

    return CodeFormer(dim_embd=32, n_head=2, n_layers=1, codebook_size=32, latent_size=256, connect_list=["32"])


def dncnn() -> torch.nn.Module:
    """A 1x denoiser: a restoration model, which Retouch has no use for."""
    from spandrel.architectures.DnCNN import DnCNN

    return DnCNN(in_nc=3, out_nc=3, nc=8, nb=5)


BUILDERS = {
    "lama": lama,
    "mat": mat,
    "compact-x4": compact_x4,
    "esrgan-x2": esrgan_x2,
    "restoreformer": restoreformer,
    "gfpgan": gfpgan,
    "codeformer": codeformer,
    "dncnn": dncnn,
}


def save(module: torch.nn.Module, folder: Path, stem: str) -> dict[str, Path]:
    """`module`'s state dict as STEM.safetensors and STEM.pth; returns both paths by suffix."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().contiguous().clone() for key, value in module.state_dict().items()}
    paths = {"safetensors": folder / f"{stem}.safetensors", "pth": folder / f"{stem}.pth"}
    save_file(state, str(paths["safetensors"]))
    torch.save(state, paths["pth"])
    return paths


def build(name: str, folder: Path, *, seed: int = 0) -> dict[str, Path]:
    """Build model `name` (see BUILDERS) with weights drawn from `seed` and save it both ways."""
    torch.manual_seed(seed)
    module = BUILDERS[name]()
    return save(module, folder, name)


class RunsCode:
    """Unpickling this runs `touch MARKER`: what a malicious checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return os.system, (f"touch {self.marker}",)


def write_pickle_with_code(path: Path, marker: Path) -> Path:
    """A .pth whose state dict also carries an object that runs a shell command when unpickled."""
    torch.save({"conv.weight": torch.zeros(4, 3, 3, 3), "payload": RunsCode(marker)}, path)
    return path


def save_torchscript_lama(path: Path, *, seed: int = 0) -> Path:
    """A LaMa saved as IOPaint ships big-lama.pt: a TorchScript archive (traced; spandrel's LaMa does not script)."""
    torch.manual_seed(seed)
    model = lama().eval()
    with torch.no_grad():
        program = torch.jit.trace(model, (torch.rand(1, 3, 32, 32), torch.rand(1, 1, 32, 32)), check_trace=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path))
    return path


def save_params_ema(module: torch.nn.Module, path: Path) -> Path:
    """A .pth as GFPGAN, CodeFormer and SwinIR releases are: the state dict under `params_ema`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params_ema": {k: v.detach().clone() for k, v in module.state_dict().items()}}, path)
    return path
