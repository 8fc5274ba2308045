"""Samplers by the names people know them, mapped to diffusers' scheduler classes."""

from __future__ import annotations

from typing import Any


def scheduler_class(name: str) -> tuple[str, dict[str, Any]]:
    """diffusers scheduler class name and config overrides for one of our scheduler names."""
    return {
        "euler-a": ("EulerAncestralDiscreteScheduler", {}),
        "euler": ("EulerDiscreteScheduler", {}),
        "dpm++-2m-karras": (
            "DPMSolverMultistepScheduler",
            {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True},
        ),
        "ddim": ("DDIMScheduler", {}),
        "unipc": ("UniPCMultistepScheduler", {}),
        "flow-euler": ("FlowMatchEulerDiscreteScheduler", {}),
    }[name]
