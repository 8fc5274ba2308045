"""`retouch inpaint IMAGE MASK -o OUT`: fill the masked part of a picture, or of a folder of pictures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from retouch.cli.common import (
    IMAGE_SUFFIXES,
    EngineLoader,
    add_engine_options,
    image_files,
    make_folder,
    parsed,
    progress_bar,
    registry,
    targets,
    write_atomically,
)
from retouch.errors import InputError
from retouch.recipe import INFILL_METHODS, BBox, FillParams, Infill, Scale, describe_validation_error


def add(sub: argparse._SubParsersAction) -> None:
    inpaint = sub.add_parser("inpaint", help="fill the masked part of a picture (or a folder of pictures)")
    inpaint.add_argument("image", type=Path, help="picture, or a folder of pictures")
    inpaint.add_argument("mask", type=Path, help="mask (white = fill), or a folder of masks matched by file stem")
    inpaint.add_argument("-o", "--output", type=Path, required=True, help="output PNG, or folder for a batch")
    inpaint.add_argument("--engine", default="patchmatch", help="engine or model name (see `retouch engines`)")
    inpaint.add_argument(
        "--bbox", type=parsed(BBox.parse), default=None, help="X,Y,W,H or auto (mask bounds + padding)"
    )
    inpaint.add_argument("--padding", type=int, default=32, help="padding for --bbox auto, in pixels")
    inpaint.add_argument("--infill", choices=INFILL_METHODS, default="patchmatch", help="pre-fill of empty pixels")
    inpaint.add_argument("--infill-color", default="#7f7f7f", help="colour for --infill solid, #rrggbb")
    inpaint.add_argument("--tile-size", type=int, default=32, help="tile side for --infill tile")
    inpaint.add_argument("--scale", type=parsed(Scale.parse), default=Scale(), help="none, auto or WxH")
    inpaint.add_argument("--grow", type=int, default=0, help="grow the mask by PX pixels")
    inpaint.add_argument("--feather", type=int, default=4, help="feather the mask edge by PX pixels")
    inpaint.add_argument("--color-match", action="store_true", help="match the fill's colours to its surroundings")
    inpaint.add_argument(
        "--tone-match",
        action="store_true",
        help="match the fill's tone to the picture at its edge (a smooth correction; the fill keeps its colours)",
    )
    inpaint.add_argument(
        "--seam-pass",
        action="store_true",
        help="after the fill, repair the seam along its edge (poisson blend, scored per pass)",
    )
    inpaint.add_argument("--seed", type=int, default=-1, help="random seed (-1 = pick one)")
    inpaint.add_argument("--prompt", default="", help="what to paint (diffusion engines)")
    inpaint.add_argument("--negative-prompt", default="", help="what to avoid (diffusion engines)")
    inpaint.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    inpaint.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    inpaint.add_argument("--strength", type=float, default=1.0)
    inpaint.add_argument("--scheduler", default=None, help="sampler, e.g. 'Euler a', 'DPM++ 2M Karras', ddim, unipc")
    add_engine_options(inpaint)
    inpaint.set_defaults(run=run)


def fill_params(args: argparse.Namespace) -> FillParams:
    # steps and guidance left out stay unset, so the pipeline gives them the model's defaults
    given = {key: getattr(args, key) for key in ("steps", "guidance") if getattr(args, key) is not None}
    try:
        return FillParams(
            engine=args.engine,
            bbox=args.bbox,
            padding=args.padding,
            infill=Infill(method=args.infill, color=args.infill_color, tile_size=args.tile_size),
            scale=args.scale,
            grow=args.grow,
            feather=args.feather,
            color_match=args.color_match,
            tone_match=args.tone_match,
            seam_pass=args.seam_pass,
            seed=args.seed,
            prompt=args.prompt,
            negative_prompt=args.negative_prompt,
            **given,
            strength=args.strength,
            scheduler=args.scheduler,
        )
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None


def pairs(image: Path, mask: Path) -> list[tuple[Path, Path]]:
    """(picture, mask) pairs: one pair, or a folder matched by stem, or a folder sharing one mask."""
    if not image.exists():
        raise InputError(f"image {str(image)!r} does not exist")
    if not mask.exists():
        raise InputError(f"mask {str(mask)!r} does not exist")
    if not image.is_dir():
        if mask.is_dir():
            raise InputError(f"mask {str(mask)!r} is a folder but image {str(image)!r} is a file")
        return [(image, mask)]
    pictures = image_files(image)
    if not mask.is_dir():
        return [(p, mask) for p in pictures]
    masks: dict[str, list[Path]] = {}
    for path in sorted(mask.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            masks.setdefault(path.stem, []).append(path)
    missing = [p.name for p in pictures if p.stem not in masks]
    if missing:
        more = " ..." if len(missing) > 5 else ""
        raise InputError(f"no mask in {str(mask)!r} for: {', '.join(missing[:5])}{more}")
    for picture in pictures:
        if len(masks[picture.stem]) > 1:
            names = ", ".join(m.name for m in masks[picture.stem])
            raise InputError(f"more than one mask in {str(mask)!r} for {picture.name}: {names}")
    return [(p, masks[p.stem][0]) for p in pictures]


def run(args: argparse.Namespace) -> int:
    from retouch.engines import Hooks
    from retouch.imaging.io import load_mask, load_picture
    from retouch.workflows import fill

    engines = registry(args)
    params = fill_params(args)
    work = pairs(args.image, args.mask)
    batch = args.image.is_dir()
    outputs = targets([p for p, _ in work], [path for pair in work for path in pair], args.output, batch)

    # Check every input (files, sizes, box, mask, engine settings) before writing anything, so that a bad
    # picture in a batch leaves no half-done output: the same check the server makes before queueing.
    for picture_path, mask_path in work:
        picture = load_picture(picture_path, what=f"image {picture_path.name!r}")
        try:
            mask = load_mask(mask_path, picture.size, what=f"mask {mask_path.name!r}")
            fill.check(picture, mask, params, engines)
        except InputError as exc:
            raise InputError(f"{picture_path.name}: {exc.message}") from None

    loader = EngineLoader(engines)
    engine = loader(params.engine)
    if batch:
        make_folder(args.output)
    steps = progress_bar(params.engine, disable=batch or not engine.needs_weights)

    def on_step(step: int, total: int, preview: object, stage: str) -> None:
        steps.total, steps.n = total, step
        steps.refresh()

    from tqdm import tqdm

    jobs = list(zip(work, outputs, strict=True))
    for (picture_path, mask_path), target in tqdm(
        jobs, desc="inpaint", unit="image", disable=not batch, file=sys.stderr
    ):
        picture = load_picture(picture_path)
        mask = load_mask(mask_path, picture.size)
        result = fill.run(picture, mask, params, loader, Hooks(on_step=on_step))
        write_atomically(target, result.png())
        if not batch:
            seam = (
                f"seam {result.report['seam_before_passes']:.2f} → "
                if params.seam_pass and "seam_before_passes" in result.report
                else "seam "
            )
            print(f"wrote {target} (engine {params.engine}, seed {result.seed}, {seam}{result.report['seam']:.2f})")
    steps.close()
    if batch:
        print(f"wrote {len(work)} pictures to {args.output}")
    return 0
