"""What every command shares: the parser that reports usage errors as `InputError`, input pairing, atomic
writes, the engine loader, and the exit codes (2 = bad input, 1 = a failure while working)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from retouch.errors import InputError
from retouch.recipe import describe_validation_error

if TYPE_CHECKING:
    from retouch.registry import Registry

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"}
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
CATALOG_HELP = "model catalog (default: $RETOUCH_CATALOG, else catalog.yaml in the user's config folder)"
PLUGIN_HELP = "extra engine as module:Class (repeatable; also $RETOUCH_ENGINE_PLUGINS, comma-separated)"


class UsageError(InputError):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def parsed(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse `type` from a parser that raises ValueError or ValidationError, with our one-line message."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except (ValueError, ValidationError) as exc:
            detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise argparse.ArgumentTypeError(detail) from None

    return convert


def plugins(given: list[str] | None) -> list[str]:
    """Engine plugins from the flags, else from $RETOUCH_ENGINE_PLUGINS."""
    if given:
        return given
    return [p for p in os.environ.get("RETOUCH_ENGINE_PLUGINS", "").split(",") if p]


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", type=Path, default=None, help=CATALOG_HELP)
    parser.add_argument("--engine-plugin", action="append", default=None, help=PLUGIN_HELP)


def registry(args: argparse.Namespace) -> Registry:
    from retouch.registry import build_registry

    return build_registry(args.catalog, plugins(args.engine_plugin))


class EngineLoader:
    """The command line's `EngineSource`: each engine loaded once, on the best device, when first asked for;
    the registry's face detectors beside them."""

    def __init__(self, engines: Registry) -> None:
        self.engines = engines
        self.detectors = engines.detectors
        self._loaded: dict = {}

    def __call__(self, name: str):  # noqa: ANN204 - returns an Engine
        if name not in self._loaded:
            from retouch.registry import get_engine

            engine = get_engine(name, self.engines)
            if engine.needs_weights:
                from retouch.devices import best_device

                engine.load(best_device())
            self._loaded[name] = engine
        return self._loaded[name]


def image_files(folder: Path) -> list[Path]:
    pictures = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not pictures:
        raise InputError(f"folder {str(folder)!r} has no pictures ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return pictures


def targets(pictures: list[Path], inputs: list[Path], output: Path, batch: bool) -> list[Path]:
    """Where each result goes: a batch writes STEM.png into the output folder, but never over another
    result or over one of its own inputs."""
    if batch and output.exists() and not output.is_dir():
        raise InputError(f"output {str(output)!r} is a file; a batch needs a folder")
    if not batch and output.is_dir():
        raise InputError(f"output {str(output)!r} is a folder; give a file name such as out.png")
    if not batch:
        return [output]
    resolved = {path.resolve() for path in inputs}
    written: dict[Path, Path] = {}
    for picture in pictures:
        target = output / f"{picture.stem}.png"
        if target in written:
            raise InputError(f"{written[target].name} and {picture.name} would both be written to {target}")
        if target.resolve() in resolved:
            raise InputError(
                f"the result for {picture.name} would overwrite the input {target}; choose another output folder"
            )
        written[target] = picture
    return list(written)


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder {str(folder)!r}: {exc.strerror}") from None


def write_atomically(target: Path, data: bytes) -> None:
    make_folder(target.parent)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"cannot write output {str(target)!r}: {exc.strerror}") from None


def progress_bar(desc: str, *, disable: bool, unit: str = "step"):  # noqa: ANN201 - a tqdm bar
    from tqdm import tqdm

    return tqdm(desc=desc, unit=unit, file=sys.stderr, leave=False, disable=disable or not sys.stderr.isatty())
