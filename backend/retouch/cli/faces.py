"""`retouch faces IMAGE`: find the faces of a picture (`--detect`), or fix them (`-o OUT --engine NAME`).

retouch faces group.jpg --detect --json                  # [{"x", "y", "width", "height", "score"}, ...]
retouch faces group.jpg -o fixed.png --engine sd15-inpaint --strength 0.4 --prompt "a smiling face"
retouch faces photos/ -o fixed/ --restorer gfpgan         # a folder: one PNG per picture, a progress bar
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from retouch.cli.common import (
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
from retouch.recipe import BBox, describe_validation_error


def add(sub: argparse._SubParsersAction) -> None:
    faces = sub.add_parser("faces", help="find the faces of a picture (--detect), or fix them (-o OUT --engine NAME)")
    faces.add_argument("image", type=Path, help="picture, or a folder of pictures")
    faces.add_argument("--detect", action="store_true", help="only find the faces and print their boxes")
    faces.add_argument("--json", action="store_true", help="with --detect: print JSON")
    faces.add_argument("-o", "--output", type=Path, default=None, help="output PNG, or folder for a batch")
    faces.add_argument("--engine", default=None, help="diffusion model that redraws each face (see `retouch engines`)")
    faces.add_argument("--restorer", default=None, help="face restorer run on each face first (GFPGAN, CodeFormer)")
    faces.add_argument("--restorer-weight", type=float, default=0.5, help="how far the restorer may move a face")
    faces.add_argument(
        "--box",
        type=parsed(BBox.parse),
        action="append",
        default=None,
        help="X,Y,W,H of a face to fix (repeatable); default: the faces found",
    )
    faces.add_argument("--strength", type=float, default=0.4, help="how much each face may change (0-1)")
    faces.add_argument("--padding", type=int, default=32, help="context around each face, in pixels")
    faces.add_argument("--mask-shape", choices=["ellipse", "box"], default="ellipse", help="shape of each face's mask")
    faces.add_argument("--grow", type=int, default=4, help="grow each face's mask by PX pixels")
    faces.add_argument("--feather", type=int, default=8, help="feather each mask's edge by PX pixels")
    faces.add_argument("--prompt", default="", help="what the faces should look like")
    faces.add_argument("--negative-prompt", default="", help="what to avoid")
    faces.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    faces.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    faces.add_argument("--scheduler", default=None, help="sampler, e.g. 'Euler a', 'DPM++ 2M Karras'")
    faces.add_argument("--seed", type=int, default=-1, help="seed of the first face; face i uses seed + i")
    faces.add_argument("--detector", default="hog", help="face detector: hog, or one registered in the catalog")
    faces.add_argument("--min-face", type=int, default=None, help="smallest face to look for, in pixels (40)")
    faces.add_argument(
        "--search-pixels",
        type=int,
        default=None,
        help="largest area searched (1048576): larger pictures are searched reduced",
    )
    add_engine_options(faces)
    faces.set_defaults(run=run)


def detect_params(args: argparse.Namespace):
    from retouch.detect.faces import DetectParams

    given = {"min_face": args.min_face, "search_pixels": args.search_pixels}
    try:
        return DetectParams(detector=args.detector, **{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None


def face_params(args: argparse.Namespace):
    from retouch.workflows.faces import FaceBox, FaceParams

    given = {key: getattr(args, key) for key in ("steps", "guidance", "scheduler") if getattr(args, key) is not None}
    boxes: Literal["auto"] | list[FaceBox] = [FaceBox(**box.model_dump()) for box in args.box] if args.box else "auto"
    try:
        return FaceParams(
            faces=boxes,
            engine=args.engine,
            restorer=args.restorer,
            restorer_weight=args.restorer_weight,
            strength=args.strength,
            padding=args.padding,
            mask_shape=args.mask_shape,
            grow=args.grow,
            feather=args.feather,
            prompt=args.prompt,
            negative_prompt=args.negative_prompt,
            seed=args.seed,
            detect=detect_params(args),
            **given,
        )
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None


def pictures_of(image: Path) -> list[Path]:
    if not image.exists():
        raise InputError(f"image {str(image)!r} does not exist")
    return image_files(image) if image.is_dir() else [image]


def detect(args: argparse.Namespace) -> int:
    from retouch.detect.faces import detect_faces, get_detector
    from retouch.imaging.io import load_picture

    params = detect_params(args)
    detector = get_detector(params.detector, registry(args).detectors)
    paths = pictures_of(args.image)
    found = {}
    for path in paths:
        picture = load_picture(path, what=f"image {path.name!r}")
        found[path] = detect_faces(picture.pixels, params, detector)
    if args.json:
        if args.image.is_dir():
            print(json.dumps({path.name: [f.as_dict() for f in d.faces] for path, d in found.items()}, indent=2))
        else:
            print(json.dumps([f.as_dict() for f in found[paths[0]].faces], indent=2))
        return 0
    for path, detection in found.items():
        print(
            f"{path.name}: {len(detection.faces)} face{'s' if len(detection.faces) != 1 else ''} "
            f"(faces of {detection.smallest_face} px and larger searched for)"
        )
        for number, face in enumerate(detection.faces, 1):
            print(f"  {number}: x={face.x} y={face.y} {face.width}x{face.height} score {face.score:.2f}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.detect:
        if args.output is not None:
            raise InputError("--detect prints the faces; it writes no picture (leave out -o)")
        return detect(args)
    if args.output is None:
        raise InputError("-o/--output is required to fix faces (or use --detect to only find them)")

    from tqdm import tqdm

    from retouch.engines import Hooks
    from retouch.imaging.io import load_picture
    from retouch.workflows import faces

    engines = registry(args)
    params = face_params(args)
    paths = pictures_of(args.image)
    batch = args.image.is_dir()
    outputs = targets(paths, paths, args.output, batch)
    for path in paths:  # every input checked before anything is written
        try:
            faces.check(load_picture(path, what=f"image {path.name!r}"), None, params, engines)
        except InputError as exc:
            raise InputError(f"{path.name}: {exc.message}") from None

    loader = EngineLoader(engines)
    for name in faces.engine_names(params):
        loader(name)
    if batch:
        make_folder(args.output)
    steps = progress_bar(faces.label(params), disable=batch)

    def on_step(step: int, total: int, preview: object, stage: str) -> None:
        steps.total, steps.n = total, step
        steps.set_postfix_str(stage, refresh=False)
        steps.refresh()

    written, faceless = 0, []
    for path, target in tqdm(
        list(zip(paths, outputs, strict=True)), desc="faces", unit="image", disable=not batch, file=sys.stderr
    ):
        try:
            result = faces.run(load_picture(path), None, params, loader, Hooks(on_step=on_step))
        except InputError as exc:
            if batch and exc.message.startswith("no faces found"):
                faceless.append(path.name)  # a photo without faces is no reason to stop a folder
                continue
            raise
        write_atomically(target, result.png())
        written += 1
        if not batch:
            count = len(result.recipe["faces"])
            seed = f", seed {result.seed}" if result.seed is not None else ""
            print(f"wrote {target} ({count} face{'s' if count != 1 else ''}, {faces.label(params)}{seed})")
    steps.close()
    if batch:
        print(f"wrote {written} pictures to {args.output}")
        if faceless:
            print(f"no faces found in {len(faceless)}, not written: {', '.join(faceless)}", file=sys.stderr)
    return 0
