"""`retouch seams IMAGE MASK -o OUT`: repair the seam along the boundary of MASK (an earlier fill's), pass by
pass, printing the seam score before and after each pass."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError

from retouch.cli.common import EngineLoader, add_engine_options, registry, write_atomically
from retouch.errors import InputError
from retouch.recipe import describe_validation_error


def add(sub: argparse._SubParsersAction) -> None:
    seams = sub.add_parser("seams", help="repair the seam along the edge of an earlier fill, scoring each pass")
    seams.add_argument("image", type=Path, help="picture with the seam")
    seams.add_argument("mask", type=Path, help="the region an earlier fill filled (white): its edge is the seam")
    seams.add_argument("-o", "--output", type=Path, required=True, help="output PNG")
    seams.add_argument("--engine", default=None, help="poisson (default, no weights), telea, navier-stokes, a model")
    seams.add_argument(
        "--painted",
        action="store_true",
        help="MASK is a stroke painted over the seam (only it changes), not an earlier fill's region",
    )
    seams.add_argument("--band", type=int, default=None, help="pixels on each side of the seam a pass may change")
    seams.add_argument("--passes", type=int, default=None, help="most passes (they stop once the target is met)")
    seams.add_argument("--target", type=float, default=None, help="stop at this seam score (1 = natural)")
    seams.add_argument("--strength", type=float, default=None, help="how much a diffusion model may change")
    seams.add_argument("--prompt", default=None, help="what the band shows (diffusion engines)")
    seams.add_argument("--seed", type=int, default=None, help="random seed (-1 = pick one)")
    add_engine_options(seams)
    seams.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from retouch.engines import Hooks
    from retouch.imaging.io import load_mask, load_picture
    from retouch.workflows import seams

    engines = registry(args)
    keys = ("engine", "band", "passes", "target", "strength", "prompt", "seed")
    given = {key: getattr(args, key) for key in keys} | {"painted": args.painted or None}
    try:
        params = seams.SeamParams(**{key: value for key, value in given.items() if value is not None})
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None
    for path, what in ((args.image, "image"), (args.mask, "mask")):
        if not path.exists():
            raise InputError(f"{what} {str(path)!r} does not exist")
    if args.output.is_dir():
        raise InputError(f"output {str(args.output)!r} is a folder; give a file name such as out.png")
    picture = load_picture(args.image)
    mask = load_mask(args.mask, picture.size)
    seams.check(picture, mask, params, engines)

    def on_step(step: int, total: int, preview: object, stage: str) -> None:
        if "seam" in stage:  # the line each pass ends with: "pass 1 of 6, seam 2.35 → 1.05"
            print(stage, flush=True)

    result = seams.run(picture, mask, params, EngineLoader(engines), Hooks(on_step=on_step))
    write_atomically(args.output, result.png())
    report = result.report
    print(f"wrote {args.output} (engine {params.engine}: {report['outcome']})")
    return 0
