"""The engine contract and the built-in engines. Model-backed engines join in `retouch.registry`."""

from __future__ import annotations

from collections.abc import Callable

from retouch.engines.base import Engine, Hooks
from retouch.engines.classical import NavierStokes, PatchMatch, Telea

EngineFactory = Callable[[], Engine]

#: The engines that need no weights, by their own names.
ENGINES: dict[str, EngineFactory] = {engine.name: engine for engine in (PatchMatch, Telea, NavierStokes)}

__all__ = ["ENGINES", "Engine", "EngineFactory", "Hooks"]
