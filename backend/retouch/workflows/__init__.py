"""Workflows: one module per job kind, each a short function over `retouch.pipeline.fill`.

The worker and the command line look a job's kind up in `WORKFLOWS`; see `base.Workflow` for the shape.
"""

from __future__ import annotations

from typing import cast

from retouch.workflows import faces, fill, seams, upscale
from retouch.workflows.base import EngineSource, Source, Workflow, WorkflowResult, detectors_of

WORKFLOWS: dict[str, Workflow] = {module.kind: cast(Workflow, module) for module in (fill, upscale, faces, seams)}

__all__ = ["WORKFLOWS", "EngineSource", "Source", "Workflow", "WorkflowResult", "detectors_of"]
