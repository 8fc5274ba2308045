"""Workflows: one module per job kind, each a short function over `retouch.pipeline.fill`.

The worker and the command line look a job's kind up in `WORKFLOWS`; see `base.Workflow` for the shape. A new
kind is one module here and one name in the `_register` call below: the server builds the kind's request, the
API's request and answer unions and the canvas's types from this table.
"""

from __future__ import annotations

from retouch.workflows import faces, fill, seams, upscale
from retouch.workflows.base import EngineSource, MaskInput, Source, Workflow, WorkflowResult


def _register(*modules: Workflow) -> dict[str, Workflow]:
    """The table by kind; mypy checks every module given against the `Workflow` protocol."""
    return {module.kind: module for module in modules}


WORKFLOWS: dict[str, Workflow] = _register(fill, upscale, faces, seams)

#: The kind of a job that names none (the API's first kind, kept for old clients).
DEFAULT_KIND = fill.kind

__all__ = ["DEFAULT_KIND", "WORKFLOWS", "EngineSource", "MaskInput", "Source", "Workflow", "WorkflowResult"]
