"""One engine registry: the built-in engines, one engine per catalog model, and plugins, by name.

The server, the command line and the tests all build their table here, so `retouch engines` lists exactly
what a server started with the same catalog and plugins offers. Building it reads no weights.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path

from retouch.catalog import SamEntry, SpandrelEntry, default_catalog_path, load_catalog
from retouch.detect.faces import DETECTORS, DetectorFactory
from retouch.engines import ENGINES, Engine, EngineFactory
from retouch.engines.diffusion import DiffusionEngine
from retouch.engines.select import SELECTORS, SamSelector, SelectorFactory
from retouch.engines.spandrel import spandrel_engine
from retouch.errors import InputError

Engines = Mapping[str, EngineFactory]


def load_plugin(spec: str) -> type[Engine]:
    """`module:Class` -> the engine class it names."""
    module_name, _, attribute = spec.partition(":")
    try:
        engine = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InputError(f"engine plugin {spec!r} cannot be imported: {exc}") from None
    if not (isinstance(engine, type) and issubclass(engine, Engine)):
        raise InputError(f"engine plugin {spec!r} is not an Engine subclass")
    return engine


class Registry(Mapping[str, EngineFactory]):
    """What a job can ask for by name: engines (the registry is their table: `registry[name]()`) and their peers
    the face detectors (`detectors`) and object selectors (`selectors`: `grabcut` and one per `sam` model), built
    together from one catalog. It travels whole wherever a job runs (a worker thread, a Ray node), so every job
    finds what the server's catalog registered; nothing reads the catalog file again."""

    def __init__(
        self,
        engines: Mapping[str, EngineFactory],
        detectors: Mapping[str, DetectorFactory] = DETECTORS,
        selectors: Mapping[str, SelectorFactory] = SELECTORS,
    ) -> None:
        self.engines: dict[str, EngineFactory] = dict(engines)
        self.detectors: dict[str, DetectorFactory] = dict(detectors)
        self.selectors: dict[str, SelectorFactory] = dict(selectors)

    def __getitem__(self, name: str) -> EngineFactory:
        return self.engines[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.engines)

    def __len__(self) -> int:
        return len(self.engines)

    def __repr__(self) -> str:
        return (
            f"Registry(engines={sorted(self.engines)}, detectors={sorted(self.detectors)}, "
            f"selectors={sorted(self.selectors)})"
        )


def build_registry(
    catalog: Path | str | None = None, plugins: Iterable[str] = (), *, missing_ok: bool = False
) -> Registry:
    """Built-in engines, then one factory per model of `catalog` (default: the user's), then plugins; and the
    face detectors: the built-in one plus the catalog's. With `missing_ok` (the server, whose installs write
    the catalog), a catalog file not written yet holds no models instead of being an error.

    A name used twice is an error naming both, so no engine silently hides another.
    """
    table: dict[str, EngineFactory] = dict(ENGINES)
    selectors: dict[str, SelectorFactory] = dict(SELECTORS)
    path = Path(catalog) if catalog is not None else default_catalog_path()
    if missing_ok and path is not None and not path.exists():
        path = None
    if path is not None:
        base = path.parent.resolve()
        for entry in load_catalog(path).models:
            if isinstance(entry, SamEntry):
                if entry.name in selectors:
                    raise InputError(f"catalog {str(path)!r}: model {entry.name!r} has the name of a built-in selector")
                selectors[entry.name] = partial(SamSelector, entry.name, entry.location(base))
                continue
            if entry.name in table:
                raise InputError(f"catalog {str(path)!r}: model {entry.name!r} has the name of a built-in engine")
            if isinstance(entry, SpandrelEntry):
                table[entry.name] = partial(
                    spandrel_engine,
                    entry.name,
                    entry.path(base),
                    entry.model_info(),
                    entry.description,
                    dtype=entry.dtype,
                    speed=entry.speed,
                )
            else:
                table[entry.name] = partial(DiffusionEngine, entry, base)
    for spec in plugins:
        engine = load_plugin(spec)
        if engine.name in table and table[engine.name] is not engine:
            raise InputError(f"engine plugin {spec!r} is named {engine.name!r}, like an engine already there")
        table[engine.name] = engine
    return Registry(table, face_detectors(path) if path is not None else DETECTORS, selectors)


def get_engine(name: str, engines: Engines | None = None) -> Engine:
    """An (unloaded) engine instance by name, or an error that lists the names there are."""
    table = ENGINES if engines is None else engines
    try:
        return table[name]()
    except KeyError:
        raise InputError(f"engine {name!r} is unknown; available: {', '.join(sorted(table))}") from None


def face_detectors(catalog: Path | str | None = None) -> dict[str, DetectorFactory]:
    """The built-in face detector (`hog`) plus one per `detectors:` entry of `catalog` (default: the user's)."""
    from retouch.detect.faces import YuNetDetector

    table = dict(DETECTORS)
    path = Path(catalog) if catalog is not None else default_catalog_path()
    if path is None:
        return table
    base = path.parent.resolve()
    for entry in load_catalog(path).detectors:
        if entry.name in table:
            raise InputError(f"catalog {str(path)!r}: detector {entry.name!r} has the name of a built-in detector")
        table[entry.name] = partial(YuNetDetector, entry.name, entry.path(base))
    return table
