"""Upscaling 1024² to 4096²: Retouch's tiled run next to the untiled one and the bare spandrel call, with time and
peak memory.

The upscaler is built at full size from spandrel's own classes with random weights (nothing is downloaded):
Real-ESRGAN's Compact x4 layout `realesr-animevideov3` (64 features, 16 convolutions) by default,
`--model compact32` for `realesr-general-x4v3` (32 convolutions), or `--model esrgan` for RealESRGAN_x4plus's
RRDB layout (23 blocks; slow on a CPU). Each case runs in a fresh process, so its peak memory is its own:

- bare: spandrel's descriptor called on the whole 1024² tensor (what a script without tiling does),
- untiled: the `upscale` workflow with one tile as large as the picture,
- tiled: the `upscale` workflow with 512 px tiles and 32 px of overlap (the defaults), and 256 px tiles.

Memory is the process's peak resident memory above what it held after loading the model (CPU), or
`torch.cuda.max_memory_allocated` above the model (CUDA). Tiled results are compared with the untiled one.

    python benchmarks/upscale_tiles.py                  # CPU here, or CUDA when there is one
    python benchmarks/upscale_tiles.py --model esrgan   # on a GPU
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

CASES = {"bare": None, "untiled": 4096, "tiled 512": 512, "tiled 256": 256}


def build_model(kind: str, folder: Path) -> Path:
    import torch
    from spandrel.architectures.Compact import Compact
    from spandrel.architectures.ESRGAN import ESRGAN

    from tests.tiny_spandrel import save

    torch.manual_seed(0)
    if kind.startswith("compact"):
        convs = 32 if kind == "compact32" else 16
        module = Compact(num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=convs, upscale=4)
    else:
        module = ESRGAN(in_nc=3, out_nc=3, num_filters=64, num_blocks=23, scale=4)
    return save(module, folder, kind)["safetensors"]


def picture(size: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    pixels = np.stack([xx * 255 // size, yy * 255 // size, (xx ^ yy) % 256], -1).astype(np.int32)
    return np.clip(pixels + rng.integers(-10, 11, pixels.shape), 0, 255).astype(np.uint8)


def resident_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_case(args: argparse.Namespace) -> None:
    """One case in this (fresh) process; prints a JSON line."""
    import torch

    from retouch.engines import Hooks
    from retouch.engines.spandrel import inspect_file, spandrel_engine
    from retouch.engines.spandrel.model import to_pixels, to_tensor
    from retouch.imaging.io import Picture
    from retouch.workflows import upscale

    path = Path(args.weights)
    engine = spandrel_engine("up", path, inspect_file(path))
    engine.load(args.device)
    cuda = args.device.startswith("cuda")
    pixels = picture(args.size)
    warm = picture(64)
    with torch.inference_mode():  # warm-up: kernels and allocator, on a small picture
        engine.descriptor(to_tensor(warm, args.device, engine.torch_dtype))
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = resident_kib("VmRSS") * 1024
    tile = CASES[args.case]
    started = time.perf_counter()
    if tile is None:
        with torch.inference_mode():
            out = to_pixels(engine.descriptor(to_tensor(pixels, args.device, engine.torch_dtype)))
    else:
        params = upscale.UpscaleParams(model="up", tile=tile, overlap=32)
        out = upscale.run(Picture(pixels), None, params, lambda name: engine, Hooks()).pixels
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() if cuda else resident_kib("VmHWM") * 1024
    np.save(args.out, out)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_bytes": max(0, peak - base),
                "dtype": engine.dtype_name,
                "shape": list(out.shape),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["compact", "compact32", "esrgan"], default="compact")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--device", default=None)
    parser.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device is None:
        from retouch.devices import best_device

        args.device = best_device()
    if args.case:
        run_case(args)
        return

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        weights = build_model(args.model, work)
        results = {}
        for case in args.cases:
            out = work / f"{case.replace(' ', '-')}.npy"
            command = [
                sys.executable,
                __file__,
                "--case",
                case,
                "--weights",
                str(weights),
                "--out",
                str(out),
                "--size",
                str(args.size),
                "--device",
                args.device,
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{case}: failed\n{done.stderr[-2000:]}")
                continue
            results[case] = json.loads(done.stdout.strip().splitlines()[-1])
            results[case]["pixels"] = np.load(out)
            print(
                f"  {case}: {results[case]['seconds']:.2f} s, peak {results[case]['peak_bytes'] / 2**20:.0f} MiB",
                flush=True,
            )

    reference = results.get("untiled", {}).get("pixels")
    bare = results.get("bare", {}).get("seconds")
    side = args.size * 4
    print()
    print(f"{args.model} x4, {args.size}² -> {side}² on {args.device} ({next(iter(results.values()))['dtype']})")
    print()
    print("| case | tile | s | vs bare | peak memory MiB | max diff to untiled |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for case, result in results.items():
        tile = CASES[case] or "-"
        ratio = f"{result['seconds'] / bare:.2f}" if bare else "-"
        diff = "-" if reference is None else int(np.abs(result["pixels"].astype(int) - reference.astype(int)).max())
        peak = result["peak_bytes"] / 2**20
        print(f"| {case} | {tile} | {result['seconds']:.2f} | {ratio} | {peak:.0f} | {diff} |")


if __name__ == "__main__":
    main()
