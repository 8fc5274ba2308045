"""PNG in and out: Retouch's reading of an upload and writing of a result next to the libraries' own calls.

Every job's round trip decodes the uploads and encodes the result. Retouch reads a plain 8-bit PNG (what the
canvas sends) with OpenCV's decoder and everything else with Pillow (`imaging/io.py`), and writes results with
its own encoder (Up filter, ISA-L deflate in bands on threads: `imaging/png.py`). This prints, per size, the
median milliseconds and the file size of each way, on skimage's astronaut resized (a photograph) and on a
mask (a square hole, as the canvas sends it), in one run; "its Pillow path" is `load_picture` reading with
Pillow alone, as it did for every file before (an RGB array out, a mask's grey copied to three channels):

    python benchmarks/png_codec.py                  # 512², 1024², 4096² (about a minute on 2 cores)
    python benchmarks/png_codec.py --sizes 512 --repeat 21
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "backend")]

from retouch.imaging import io as picture_io  # noqa: E402
from retouch.imaging.io import encode_png, load_picture  # noqa: E402


def photograph(side: int) -> np.ndarray:
    from skimage import data

    interpolation = cv2.INTER_AREA if side <= 512 else cv2.INTER_CUBIC
    return cv2.resize(data.astronaut(), (side, side), interpolation=interpolation)


def hole_mask(side: int) -> np.ndarray:
    mask = np.zeros((side, side), np.uint8)
    edge = round(side * 0.1**0.5)
    start = (side - edge) // 2
    mask[start : start + edge, start : start + edge] = 255
    return mask


def pillow_png(pixels: np.ndarray, level: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=level)
    return buffer.getvalue()


def opencv_png(pixels: np.ndarray, level: int) -> bytes:
    converted = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    return cv2.imencode(".png", converted, [cv2.IMWRITE_PNG_COMPRESSION, level])[1].tobytes()


def pillow_read(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def opencv_read(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def pillow_path(data: bytes) -> None:
    """`load_picture` as it was before plain PNGs went to OpenCV: Pillow for everything."""
    plain_png = picture_io._plain_png
    picture_io._plain_png = lambda data: None
    try:
        load_picture(data)
    finally:
        picture_io._plain_png = plain_png


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 4096])
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    load1, _, _ = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load1:.1f}; medians of {args.repeat} in ms, sizes in KiB\n")

    print("Writing a result (RGB photograph)")
    print(f"{'size':>6} {'way':<44}{'ms':>9}{'KiB':>9}{'vs Retouch':>12}")
    for side in args.sizes:
        pixels = photograph(side)
        repeat = max(3, args.repeat // 4) if side > 2048 else args.repeat
        ways: dict[str, Callable[[np.ndarray], bytes]] = {
            "Retouch (Up filter, ISA-L level 1, threads)": lambda pixels: encode_png(pixels, {"kind": "fill"}),
            "Pillow, compress_level 1": lambda pixels: pillow_png(pixels, 1),
            "Pillow, default (6)": lambda pixels: pillow_png(pixels, 6),
            "OpenCV, compression 1 (its default)": lambda pixels: opencv_png(pixels, 1),
            "OpenCV, compression 3": lambda pixels: opencv_png(pixels, 3),
        }
        ours = None
        for name, write in ways.items():
            took = median_ms(lambda write=write, pixels=pixels: write(pixels), repeat)
            ours = ours or took
            size = len(write(pixels)) / 1024
            print(f"{str(side) + '²':>6} {name:<44}{took:>9.1f}{size:>9.0f}{took / ours:>11.2f}x")

    print("\nReading an upload (what `POST /api/v1/images` decodes)")
    print(f"{'size':>6} {'picture':<24}{'way':<26}{'ms':>9}{'vs Retouch':>12}")
    for side in args.sizes:
        repeat = max(3, args.repeat // 4) if side > 2048 else args.repeat
        for label, data in (
            ("photograph (Pillow, 1)", pillow_png(photograph(side), 1)),
            ("photograph (OpenCV, 3)", opencv_png(photograph(side), 3)),
            ("mask (Pillow, 1)", pillow_png(hole_mask(side), 1)),
        ):
            ours = median_ms(lambda data=data: load_picture(data), repeat)
            for name, took in (
                ("Retouch load_picture", ours),
                ("its Pillow path (before)", median_ms(lambda data=data: pillow_path(data), repeat)),
                ("Pillow", median_ms(lambda data=data: pillow_read(data), repeat)),
                ("OpenCV imdecode", median_ms(lambda data=data: opencv_read(data), repeat)),
            ):
                print(f"{str(side) + '²':>6} {label:<24}{name:<26}{took:>9.1f}{took / ours:>11.2f}x")


if __name__ == "__main__":
    main()
