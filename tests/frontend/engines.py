"""An engine shaped like a diffusion model for the canvas tests: it takes a prompt and works on a grid
of 64 at a native 512, but paints like the server tests' slow engine (no weights, a step at a time)."""

from __future__ import annotations

from tests.server.engines import SlowEngine


class PromptGridEngine(SlowEngine):
    name = "slow-grid"
    description = "test engine: takes a prompt, grid 64, native 512"
    takes_prompt = True
    native_size = 512
    grid = 64
