"""Engines by name. Classical engines are listed here; model-backed engines join from the catalog."""

from __future__ import annotations

from collections.abc import Callable

from retouch.engines.base import Engine, Hooks
from retouch.engines.classical import NavierStokes, PatchMatch, Telea
from retouch.errors import InputError

EngineFactory = Callable[[], Engine]

#: Engines by name: each value builds an (unloaded) engine. Model-backed engines are added per catalog entry.
ENGINES: dict[str, EngineFactory] = {
    "patchmatch": PatchMatch,
    "telea": Telea,
    "navier-stokes": NavierStokes,
}


def get_engine(name: str, engines: dict[str, EngineFactory] | None = None) -> Engine:
    """An engine instance by name, or an error that lists the names there are."""
    table = ENGINES if engines is None else engines
    try:
        return table[name]()
    except KeyError:
        raise InputError(f"engine {name!r} is unknown; available: {', '.join(sorted(table))}") from None


__all__ = ["ENGINES", "Engine", "EngineFactory", "Hooks", "get_engine"]
