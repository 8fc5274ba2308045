"""What every workflow shares: how it gets engines, what it returns, and the shape of a workflow.

A workflow turns a picture (and a mask, for the kinds that take one) into a result by calling
`retouch.pipeline.fill` and pure imaging functions: it is a short loop over the one primitive, never a
second pipeline. The server's worker and the command line run the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel

from retouch.detect.faces import DetectorFactory
from retouch.engines import Engine, EngineFactory, Hooks
from retouch.imaging.io import Picture, encode_png
from retouch.registry import Registry

#: Engine factories by name, for a check that lists what there is (a `Registry` is one).
Engines = Mapping[str, EngineFactory]


class EngineSource(Protocol):
    """What a run asks for by name: loaded engines (a worker's model cache, the command line's loader; an
    unknown name raises `InputError` naming those there are) and the face detectors of the same registry."""

    @property
    def detectors(self) -> Mapping[str, DetectorFactory]: ...

    def __call__(self, name: str) -> Engine: ...


@dataclass(frozen=True)
class Source:
    """An `EngineSource`: `load` (a worker's model cache) and the detectors of the registry it loads from."""

    load: Callable[[str], Engine]
    detectors: Mapping[str, DetectorFactory]

    def __call__(self, name: str) -> Engine:
        return self.load(name)


@dataclass(frozen=True)
class MaskInput:
    """A kind whose jobs name a mask: whether they must, and what it is (its description in the API)."""

    required: bool
    description: str


@dataclass
class WorkflowResult:
    pixels: np.ndarray  # the whole picture after the workflow (upscale: at its new size)
    recipe: dict[str, Any]  # written into the PNG's `retouch` chunk; has "kind"
    seed: int | None = None
    report: dict[str, Any] = field(default_factory=dict)  # a small JSON summary for the job's result
    exif: bytes | None = None
    icc_profile: bytes | None = None

    def png(self) -> bytes:
        return encode_png(self.pixels, self.recipe, exif=self.exif, icc_profile=self.icc_profile)


class Workflow(Protocol):
    """One job kind: its parameters, a cheap check and the run. Modules in this package implement it, and
    `WORKFLOWS` lists them; the server derives a kind's request (`kind`, `image`, `priority`, the mask if it
    takes one, and `Params`' fields) and the API's unions from there."""

    # read-only members (module constants): a module's `Params = FillParams` satisfies `type[BaseModel]`

    @property
    def kind(self) -> str: ...

    @property
    def summary(self) -> str:
        """What a job of this kind does, one sentence (its request's description in the API)."""
        ...

    @property
    def Params(self) -> type[BaseModel]: ...  # noqa: N802 - the modules' name for their parameters' model

    @property
    def mask_input(self) -> MaskInput | None:
        """Whether jobs of this kind name a mask, and what it is."""
        ...

    def engine_names(self, params: Any) -> list[str]:
        """The engines a run loads, first the main one (placement prefers a worker holding it)."""
        ...

    def label(self, params: Any) -> str:
        """The engine or model the job runs, as a job's `engine` shows it."""
        ...

    def check(self, picture: Picture, mask: np.ndarray | None, params: Any, engines: Registry) -> None:
        """Raise `InputError` for anything `run` would refuse; cheap (no weights, no engine work)."""
        ...

    def run(
        self, picture: Picture, mask: np.ndarray | None, params: Any, engines: EngineSource, hooks: Hooks
    ) -> WorkflowResult: ...
