"""The `retouch` command. Bad input prints one line naming the problem and exits with 2, writing nothing."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from retouch.catalog import DEFAULT_CATALOG, ENV_CATALOG, FAMILIES
from retouch import __version__
from retouch.errors import InputError, RetouchError
from retouch.recipe import INFILL_METHODS, BBox, FillParams, Scale, describe_validation_error

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"}
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
WS_MAX_MESSAGE = 1 << 20  # a websocket message (a subscription) is small
CATALOG_HELP = f"model catalog (default: ${ENV_CATALOG}, else {DEFAULT_CATALOG} when present)"


class UsageError(InputError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _bbox(text: str) -> BBox | str:
    try:
        return BBox.parse(text)
    except (ValueError, ValidationError) as exc:
        detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise argparse.ArgumentTypeError(detail) from None


def _scale(text: str) -> Scale:
    try:
        return Scale.parse(text)
    except (ValueError, ValidationError) as exc:
        detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise argparse.ArgumentTypeError(detail) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="retouch", description="Retouch: fill, repair and extend pictures.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    inpaint = sub.add_parser("inpaint", help="fill the masked part of a picture (or a folder of pictures)")
    inpaint.add_argument("image", type=Path, help="picture, or a folder of pictures")
    inpaint.add_argument("mask", type=Path, help="mask (white = fill), or a folder of masks matched by file stem")
    inpaint.add_argument("-o", "--output", type=Path, required=True, help="output PNG, or folder for a batch")
    inpaint.add_argument("--engine", default="patchmatch", help="engine or model name (see `retouch engines`)")
    inpaint.add_argument("--bbox", type=_bbox, default=None, help="X,Y,W,H or auto (mask bounds + padding)")
    inpaint.add_argument("--padding", type=int, default=32, help="padding for --bbox auto, in pixels")
    inpaint.add_argument("--infill", choices=INFILL_METHODS, default="patchmatch", help="pre-fill of empty pixels")
    inpaint.add_argument("--infill-color", default="#7f7f7f", help="colour for --infill solid, #rrggbb")
    inpaint.add_argument("--tile-size", type=int, default=32, help="tile side for --infill tile")
    inpaint.add_argument("--scale", type=_scale, default=Scale(), help="none, auto or WxH")
    inpaint.add_argument("--grow", type=int, default=0, help="grow the mask by PX pixels")
    inpaint.add_argument("--feather", type=int, default=4, help="feather the mask edge by PX pixels")
    inpaint.add_argument("--color-match", action="store_true", help="match the fill's colours to its surroundings")
    inpaint.add_argument("--seed", type=int, default=-1, help="random seed (-1 = pick one)")
    inpaint.add_argument("--prompt", default="", help="what to paint (diffusion engines)")
    inpaint.add_argument("--negative-prompt", default="", help="what to avoid (diffusion engines)")
    inpaint.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    inpaint.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    inpaint.add_argument("--strength", type=float, default=1.0)
    inpaint.add_argument("--scheduler", default=None, help="sampler, e.g. 'Euler a', 'DPM++ 2M Karras', ddim, unipc")
    inpaint.add_argument("--catalog", type=Path, default=None, help=CATALOG_HELP)
    inpaint.set_defaults(run=_cmd_inpaint)

    demo = sub.add_parser("demo", help="fill a bundled picture and say where the result went")
    demo.add_argument("-o", "--output", type=Path, default=Path("out/demo.png"))
    demo.set_defaults(run=_cmd_demo)

    serve = sub.add_parser("serve", help="start the server and the canvas (http://127.0.0.1:8000)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (beyond loopback needs --token)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, default=None, help="SQLite file and pictures (default ./data)")
    serve.add_argument("--token", default=None, help="access token (or RETOUCH_TOKEN)")
    serve.add_argument("--workers-per-device", type=int, default=None)
    serve.add_argument("--max-upload-mb", type=int, default=None, help="largest upload in MB")
    serve.add_argument("--max-pixels", type=int, default=None, help="largest picture in pixels")
    serve.add_argument("--catalog", type=Path, default=None, help="model catalog YAML")
    serve.add_argument("--engine-plugin", action="append", default=None, help="extra engine as module:Class")
    serve.add_argument("--allowed-host", action="append", default=None,
                       help="a host name the server answers to besides loopback and --host (repeatable; * = any)")
    serve.add_argument("--allowed-origin", action="append", default=None,
                       help="a web origin besides the server's own whose pages may call it (repeatable)")
    serve.add_argument("--stop-grace", type=float, default=None,
                       help="seconds running jobs get to finish on SIGTERM/Ctrl-C (default 30); the rest are queued again")
    serve.add_argument("--retention-days", type=float, default=None,
                       help="delete finished jobs and pictures older than this (default 30; 0 = never by age)")
    serve.add_argument("--retention-gb", type=float, default=None,
                       help="keep at most this many GB of pictures, oldest deleted first (default 10; 0 = no limit)")
    serve.add_argument("--decode-memory-mb", type=int, default=None,
                       help="memory concurrent picture decodes may hold, in MB (default 1024)")
    serve.add_argument("--picture-cache-mb", type=int, default=None,
                       help="memory for decoded pictures kept between upload and worker, in MB (default 96)")
    serve.set_defaults(run=_cmd_serve)

    rebuild = sub.add_parser("rebuild-index", help="rebuild the server's index of pictures from the files in its "
                             "data folder, after its database was damaged or lost (a copy of it is kept)")
    rebuild.add_argument("--data-dir", type=Path, default=None, help="the server's data folder (default ./data)")
    rebuild.set_defaults(run=_cmd_rebuild_index)

    engines = sub.add_parser("engines", help="list the engines and what each can do")
    engines.add_argument("--json", action="store_true", help="print JSON")
    engines.add_argument("--catalog", type=Path, default=None, help=CATALOG_HELP)
    engines.set_defaults(run=_cmd_engines)

    models = sub.add_parser("models", help="list the diffusion models in the catalog and whether each is here")
    models.add_argument("--catalog", type=Path, default=None, help=CATALOG_HELP)
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(run=_cmd_models)
    models_sub = models.add_subparsers(dest="models_command", parser_class=_Parser)
    add = models_sub.add_parser("add", help="register a diffusers folder, .safetensors file or hub id")
    add.add_argument("source", help="diffusers folder, .safetensors checkpoint, or hub id (owner/name)")
    add.add_argument("--name", required=True, help="the engine name jobs will use")
    add.add_argument("--family", choices=list(FAMILIES), default=None,
                     help="model family (detected from local files; needed for hub ids)")
    add.add_argument("--config", default=None,
                     help="for a single file: diffusers folder or hub id with its configs and tokenizers")
    add.add_argument("--description", default="")
    # SUPPRESS: `retouch models --catalog X add ...` keeps X instead of resetting it to None
    add.add_argument("--catalog", type=Path, default=argparse.SUPPRESS, help=CATALOG_HELP)
    add.set_defaults(run=_cmd_models_add)
    return parser


def _params(args: argparse.Namespace) -> FillParams:
    # steps and guidance left out stay unset, so the pipeline gives them the model's defaults
    given = {key: getattr(args, key) for key in ("steps", "guidance") if getattr(args, key) is not None}
    try:
        return FillParams(
            engine=args.engine,
            bbox=args.bbox,
            padding=args.padding,
            infill={"method": args.infill, "color": args.infill_color, "tile_size": args.tile_size},
            scale=args.scale,
            grow=args.grow,
            feather=args.feather,
            color_match=args.color_match,
            seed=args.seed,
            prompt=args.prompt,
            negative_prompt=args.negative_prompt,
            **given,
            strength=args.strength,
            scheduler=args.scheduler,
        )
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None


def _pairs(image: Path, mask: Path) -> list[tuple[Path, Path]]:
    """(picture, mask) pairs: one pair, or a folder matched by stem, or a folder sharing one mask."""
    if not image.exists():
        raise InputError(f"image {str(image)!r} does not exist")
    if not mask.exists():
        raise InputError(f"mask {str(mask)!r} does not exist")
    if not image.is_dir():
        if mask.is_dir():
            raise InputError(f"mask {str(mask)!r} is a folder but image {str(image)!r} is a file")
        return [(image, mask)]
    pictures = sorted(p for p in image.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not pictures:
        raise InputError(f"folder {str(image)!r} has no pictures ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if not mask.is_dir():
        return [(p, mask) for p in pictures]
    masks: dict[str, list[Path]] = {}
    for path in sorted(mask.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            masks.setdefault(path.stem, []).append(path)
    missing = [p.name for p in pictures if p.stem not in masks]
    if missing:
        raise InputError(f"no mask in {str(mask)!r} for: {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
    for picture in pictures:
        if len(masks[picture.stem]) > 1:
            names = ", ".join(m.name for m in masks[picture.stem])
            raise InputError(f"more than one mask in {str(mask)!r} for {picture.name}: {names}")
    return [(p, masks[p.stem][0]) for p in pictures]


def _targets(pairs: list[tuple[Path, Path]], output: Path, batch: bool) -> list[Path]:
    """Where each result goes: a batch writes STEM.png into the output folder, but never over another
    result or over one of its own inputs."""
    if not batch:
        return [output]
    inputs = {path.resolve() for pair in pairs for path in pair}
    written: dict[Path, Path] = {}
    for picture, _ in pairs:
        target = output / f"{picture.stem}.png"
        if target in written:
            raise InputError(f"{written[target].name} and {picture.name} would both be written to {target}")
        if target.resolve() in inputs:
            raise InputError(
                f"the result for {picture.name} would overwrite the input {target}; choose another output folder"
            )
        written[target] = picture
    return list(written)


def _cmd_inpaint(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from retouch.catalog import all_engines
    from retouch.engines import Hooks, get_engine
    from retouch.imaging.io import load_mask, load_picture
    from retouch.pipeline import fill, plan, with_engine_defaults

    engine = get_engine(args.engine.strip(), all_engines(args.catalog))
    params = with_engine_defaults(_params(args), engine)
    engine.check(params)
    pairs = _pairs(args.image, args.mask)
    batch = args.image.is_dir()
    if batch and args.output.exists() and not args.output.is_dir():
        raise InputError(f"output {str(args.output)!r} is a file; a batch needs a folder")
    if not batch and args.output.is_dir():
        raise InputError(f"output {str(args.output)!r} is a folder; give a file name such as out.png")
    targets = _targets(pairs, args.output, batch)

    # Check every input (files, sizes, box, mask) before writing anything, so that a bad picture in a
    # batch leaves no half-done output.
    for picture_path, mask_path in pairs:
        picture = load_picture(picture_path, what=f"image {picture_path.name!r}")
        try:
            mask = load_mask(mask_path, picture.size, what=f"mask {mask_path.name!r}")
            plan(picture.pixels, mask, params, engine)
        except InputError as exc:
            raise InputError(f"{picture_path.name}: {exc.message}") from None

    if engine.needs_weights:
        from retouch.devices import best_device

        engine.load(best_device())
    if batch:
        _make_folder(args.output)
    steps = tqdm(desc=params.engine, unit="step", file=sys.stderr, leave=False,
                 disable=batch or not engine.needs_weights or not sys.stderr.isatty())

    def on_step(step: int, total: int, preview: object) -> None:
        steps.total, steps.n = total, step
        steps.refresh()

    jobs = list(zip(pairs, targets, strict=True))
    for (picture_path, mask_path), target in tqdm(jobs, desc="inpaint", unit="image", disable=not batch, file=sys.stderr):
        picture = load_picture(picture_path)
        mask = load_mask(mask_path, picture.size)
        result = fill(picture, mask, params, engine=engine, hooks=Hooks(on_step=on_step))
        _write_atomically(target, result.png())
        if not batch:
            print(f"wrote {target} (engine {params.engine}, seed {result.seed})")
    steps.close()
    if batch:
        print(f"wrote {len(pairs)} pictures to {args.output}")
    return 0


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder {str(folder)!r}: {exc.strerror}") from None


def _write_atomically(target: Path, data: bytes) -> None:
    _make_folder(target.parent)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"cannot write output {str(target)!r}: {exc.strerror}") from None


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from retouch.server.app import create_app
    from retouch.server.runtime import limit_arenas, quiet_floods, raise_file_limit
    from retouch.server.settings import Settings
    from retouch.server.store import DB_NAME, Database

    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            token=args.token,
            workers_per_device=args.workers_per_device,
            max_upload_bytes=args.max_upload_mb * 1024 * 1024 if args.max_upload_mb else None,
            max_pixels=args.max_pixels,
            catalog=args.catalog,
            engine_plugins=args.engine_plugin,
            allowed_hosts=args.allowed_host,
            allowed_origins=args.allowed_origin,
            stop_grace=args.stop_grace,
            retention_days=args.retention_days,
            retention_bytes=int(args.retention_gb * 1e9) if args.retention_gb is not None else None,
            decode_memory=args.decode_memory_mb * 1024 * 1024 if args.decode_memory_mb else None,
            picture_cache=args.picture_cache_mb * 1024 * 1024 if args.picture_cache_mb is not None else None,
        )
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None
    Database(settings.data_dir / DB_NAME).close()  # a damaged database stops here, with one line
    quiet_floods()
    raise_file_limit()
    limit_arenas()
    print(f"Retouch {__version__} on http://{settings.host}:{settings.port} (data in {settings.data_dir})", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                ws="websockets-sansio", ws_max_size=WS_MAX_MESSAGE, timeout_graceful_shutdown=5)
    return 0


def _cmd_rebuild_index(args: argparse.Namespace) -> int:
    from retouch.server.settings import default_data_dir
    from retouch.server.store import rebuild_index

    data = args.data_dir or default_data_dir()
    if not (data / "images").is_dir():
        raise InputError(f"{data} holds no pictures (no images/ folder); nothing to rebuild")
    backup, pictures, jobs = rebuild_index(data)
    kept = f"; the old database was copied to {backup}" if backup else ""
    jobs_note = f", {jobs} job(s) kept" if jobs else ", no jobs could be read back"
    print(f"rebuilt the index of {data}: {pictures} picture(s){jobs_note}{kept}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from importlib.resources import files

    assets = files("retouch") / "assets"
    return main(["inpaint", str(assets / "demo.jpg"), str(assets / "demo-mask.png"), "-o", str(args.output),
                 "--bbox", "auto", "--seed", "1"])


def _cmd_engines(args: argparse.Namespace) -> int:
    from retouch.catalog import all_engines

    rows = [engine().capabilities() for engine in all_engines(args.catalog).values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'engine':<16} {'weights':<8} {'prompt':<7} {'native':<7} description")
    for row in rows:
        native = str(row["native_size"] or "-")
        weights = "yes" if row["needs_weights"] else "no"
        prompt = "yes" if row["takes_prompt"] else "no"
        print(f"{row['name']:<16} {weights:<8} {prompt:<7} {native:<7} {row['description']}")
    return 0


def _catalog_path(given: Path | None, *, creating: bool = False) -> Path:
    from retouch.catalog import default_catalog_path

    path = given or default_catalog_path()
    if path is None:
        if creating:
            return DEFAULT_CATALOG
        raise InputError(f"no model catalog: {DEFAULT_CATALOG} does not exist and ${ENV_CATALOG} is not set "
                         "(add one with `retouch models add PATH --name NAME`)")
    return path


def _cmd_models(args: argparse.Namespace) -> int:
    from retouch.catalog import load_catalog, presence

    path = _catalog_path(args.catalog)
    catalog = load_catalog(path)
    rows = []
    for entry in catalog.models:
        present, where = presence(entry, path.parent)
        rows.append({"name": entry.name, "family": entry.family, "present": present, "where": where,
                     "source": entry.source, "native_size": entry.size})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no models in {path}; add one with `retouch models add PATH --name NAME`")
        return 0
    print(f"{'model':<24} {'family':<13} {'present':<8} where")
    for row in rows:
        print(f"{row['name']:<24} {row['family']:<13} {'yes' if row['present'] else 'NO':<8} {row['where']}")
    return 0


def _cmd_models_add(args: argparse.Namespace) -> int:
    from retouch.catalog import add_model

    path = _catalog_path(args.catalog, creating=True)
    entry = add_model(path, args.source, args.name, family=args.family, config=args.config,
                      description=args.description)
    print(f"added {entry.name} ({entry.family}, {FAMILIES[entry.family].label}) to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except InputError as exc:
        print(f"retouch: error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RetouchError as exc:
        print(f"retouch: failed: {exc.message}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
