"""`retouch upscale IMAGE -o OUT [--model NAME] [--scale F]`: a picture, or a folder of them, made larger."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from retouch.cli.common import (
    EngineLoader,
    add_engine_options,
    image_files,
    make_folder,
    progress_bar,
    registry,
    targets,
    write_atomically,
)
from retouch.errors import InputError
from retouch.recipe import describe_validation_error


def add(sub: argparse._SubParsersAction) -> None:
    upscale = sub.add_parser("upscale", help="scale a picture (or a folder of pictures) up before inpainting it")
    upscale.add_argument("image", type=Path, help="picture, or a folder of pictures")
    upscale.add_argument("-o", "--output", type=Path, required=True, help="output PNG, or folder for a batch")
    upscale.add_argument("--model", default="lanczos", help="upscaling model (see `retouch engines`), or lanczos")
    upscale.add_argument("--scale", type=float, default=None, help="factor per side (default: the model's, or 2)")
    upscale.add_argument("--tile", type=int, default=None, help="tile side in input pixels for models (default 512)")
    upscale.add_argument("--overlap", type=int, default=None, help="context around each tile in pixels (default 32)")
    add_engine_options(upscale)
    upscale.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from retouch.engines import Hooks
    from retouch.imaging.io import load_picture
    from retouch.workflows import upscale

    engines = registry(args)
    try:
        given = {key: getattr(args, key) for key in ("scale", "tile", "overlap") if getattr(args, key) is not None}
        params = upscale.UpscaleParams(model=args.model.strip(), **given)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None
    if not args.image.exists():
        raise InputError(f"image {str(args.image)!r} does not exist")
    batch = args.image.is_dir()
    pictures = image_files(args.image) if batch else [args.image]
    outputs = targets(pictures, pictures, args.output, batch)
    for path in pictures:  # every input checked before anything is written
        try:
            upscale.check(load_picture(path, what=f"image {path.name!r}"), None, params, engines)
        except InputError as exc:
            raise InputError(f"{path.name}: {exc.message}") from None
    loader = EngineLoader(engines)
    if batch:
        make_folder(args.output)
    tiles = progress_bar(params.model, disable=batch or params.model == upscale.LANCZOS, unit="tile")

    def on_step(step: int, total: int, preview: object, stage: str) -> None:
        tiles.total, tiles.n = total, step
        tiles.refresh()

    for path, target in tqdm(
        list(zip(pictures, outputs, strict=True)), desc="upscale", unit="image", disable=not batch, file=sys.stderr
    ):
        result = upscale.run(load_picture(path), None, params, loader, Hooks(on_step=on_step))
        write_atomically(target, result.png())
        if not batch:
            height, width = result.pixels.shape[:2]
            print(f"wrote {target} ({width}x{height}, {params.model}, {result.recipe['scale']:g}x)")
    tiles.close()
    if batch:
        print(f"wrote {len(pictures)} pictures to {args.output}")
    return 0
