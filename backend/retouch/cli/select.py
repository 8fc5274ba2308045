"""`retouch select IMAGE -o MASK.png`: the mask of an object from a box and clicks (GrabCut, or a model).

retouch select photo.jpg --box 120,80,300,260 -o cup.png             # GrabCut inside the box
retouch select photo.jpg --point 260,210 --point 300,120,- -o cup.png  # a click on it, one that takes away
retouch select photo.jpg --point 260,210 --model sam-vit-base -o cup.png
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from retouch.cli.common import add_engine_options, parsed, plugins, write_atomically
from retouch.errors import InputError
from retouch.recipe import BBox


def parse_point(text: str) -> tuple[float, float, bool]:
    """`X,Y` (adds), `X,Y,+` (adds) or `X,Y,-` (takes away)."""
    match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*(?:,\s*([+-]))?\s*", text)
    if match is None:
        raise ValueError(f"a point is X,Y or X,Y,- (to take away), got {text!r}")
    return float(match[1]), float(match[2]), match[3] != "-"


def add(sub: argparse._SubParsersAction) -> None:
    select = sub.add_parser("select", help="the mask of an object from a box and clicks (GrabCut, or a SAM model)")
    select.add_argument("image", type=Path, help="the picture")
    select.add_argument("-o", "--output", type=Path, required=True, help="the mask PNG (255 = selected)")
    select.add_argument("--box", type=parsed(BBox.parse), default=None, help="X,Y,W,H around the object")
    select.add_argument(
        "--point",
        type=parsed(parse_point),
        action="append",
        default=[],
        help="X,Y on the object, or X,Y,- on what to take away (repeatable)",
    )
    select.add_argument("--previous", type=Path, default=None, help="a mask the clicks refine")
    select.add_argument("--model", default=None, help="grabcut (default, no weights) or a catalog model of family sam")
    add_engine_options(select)
    select.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from retouch.devices import best_device
    from retouch.engines.select import get_selector
    from retouch.imaging.io import encode_mask_png, load_mask, load_picture
    from retouch.imaging.select import Prompt, SelectPoint
    from retouch.registry import build_registry

    if args.box == "auto":
        raise InputError("--box: give X,Y,W,H (auto is for fills)")
    if not args.image.is_file():
        raise InputError(f"image {str(args.image)!r} does not exist")
    selector = get_selector(args.model, build_registry(args.catalog, plugins(args.engine_plugin)).selectors)
    picture = load_picture(args.image).pixels
    height, width = picture.shape[:2]
    previous = load_mask(args.previous, (width, height), what="--previous") if args.previous else None
    box = args.box.as_tuple() if args.box is not None else None
    prompt = Prompt(box, tuple(SelectPoint(*point) for point in args.point), previous)
    prompt.check(width, height)
    if selector.needs_weights:
        selector.device = best_device()
    selection = selector.select(picture, prompt)
    write_atomically(args.output, encode_mask_png(selection.mask))
    found = selection.bbox
    area = int(np.count_nonzero(selection.mask))
    where = f"box {found[0]},{found[1]},{found[2]},{found[3]}" if found else "nothing selected"
    score = f", score {selection.score:.3f}" if selection.score is not None else ""
    print(f"{args.output}: {area} px selected ({where}{score}) by {selector.name}", file=sys.stderr)
    return 0
