"""What a fill is asked to do: one family of models shared by the pipeline, the command and the API.

Every tunable is a bounded `Field` with a description, so the command line, the OpenAPI document and
the PNG recipe all say the same thing. Unknown keys are rejected, never ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

InfillMethod = Literal["patchmatch", "blur", "solid", "tile", "telea", "navier-stokes"]
INFILL_METHODS: tuple[str, ...] = InfillMethod.__args__  # type: ignore[attr-defined]

#: Samplers of the diffusion engines, by the names people know them (A1111 / ComfyUI). Which ones a model
#: accepts depends on its family (flow-matching FLUX has its own); the engine says so with the choices.
SCHEDULERS: tuple[str, ...] = ("euler-a", "euler", "dpm++-2m-karras", "ddim", "unipc", "flow-euler")


def scheduler_name(value: str | None) -> str | None:
    """A sampler as written (`Euler a`, `DPM++ 2M Karras`) to its name, or a ValueError naming the choices."""
    if value is None:
        return None
    name = normalise_scheduler(value)
    if name not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {value!r}")
    return name


#: A sampler field: written forms are normalised, anything else is refused naming the choices.
Scheduler = Annotated[str | None, AfterValidator(scheduler_name)]


MAX_SIDE = 8192
SEED_MAX = 2**32 - 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class BBox(Strict):
    """A rectangle in image pixels; the fill works inside it and nothing outside it changes."""

    x: int = Field(ge=0, le=MAX_SIDE * 4, description="Left edge in pixels.")
    y: int = Field(ge=0, le=MAX_SIDE * 4, description="Top edge in pixels.")
    width: int = Field(ge=1, le=MAX_SIDE * 4, description="Width in pixels.")
    height: int = Field(ge=1, le=MAX_SIDE * 4, description="Height in pixels.")

    @classmethod
    def parse(cls, text: str) -> BBox | Literal["auto"]:
        """`X,Y,W,H` or `auto`, as typed on the command line."""
        if text.strip().lower() == "auto":
            return "auto"
        parts = text.split(",")
        if len(parts) != 4 or not all(re.fullmatch(r"\s*-?\d+\s*", p) for p in parts):
            raise ValueError(f"bbox must be X,Y,W,H (four integers) or auto, got {text!r}")
        x, y, w, h = (int(p) for p in parts)
        return cls(x=x, y=y, width=w, height=h)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.width, self.height


class Infill(Strict):
    """How pixels that have no content (alpha 0) are pre-filled before the engine runs."""

    method: InfillMethod = Field("patchmatch", description="Pre-fill method for empty pixels.")
    color: str = Field(
        "#7f7f7f",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="Colour for the `solid` method, as #rrggbb.",
    )
    tile_size: int = Field(32, ge=4, le=512, description="Tile side in pixels for the `tile` method.")

    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(self.color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


class Scale(Strict):
    """Scale before processing: the region is resized to a working size, filled, and scaled back."""

    mode: Literal["none", "auto", "manual"] = Field(
        "auto",
        description="`none` keeps the region's size; `auto` uses the engine's native area and grid; "
        "`manual` uses width x height.",
    )
    width: int | None = Field(None, ge=8, le=MAX_SIDE, description="Working width for `manual`.")
    height: int | None = Field(None, ge=8, le=MAX_SIDE, description="Working height for `manual`.")

    @model_validator(mode="after")
    def _manual_needs_size(self) -> Scale:
        if self.mode == "manual" and (self.width is None or self.height is None):
            raise ValueError("scale mode manual needs both width and height")
        return self

    @classmethod
    def parse(cls, text: str) -> Scale:
        """`none`, `auto` or `WxH`, as typed on the command line."""
        lowered = text.strip().lower()
        if lowered in ("none", "auto"):
            return cls(mode=lowered)  # type: ignore[arg-type]
        match = re.fullmatch(r"(\d+)x(\d+)", lowered)
        if not match:
            raise ValueError(f"scale must be none, auto or WxH (e.g. 768x512), got {text!r}")
        return cls(mode="manual", width=int(match[1]), height=int(match[2]))


class FillParams(Strict):
    """The full recipe of one fill. Written into every output PNG, so a result can be reproduced."""

    engine: str = Field("patchmatch", min_length=1, max_length=200, description="Engine or model name.")
    bbox: BBox | Literal["auto"] | None = Field(
        None, description="Region to work in; null = whole image, `auto` = the mask's bounds plus padding."
    )
    padding: int = Field(32, ge=0, le=1024, description="Padding around the mask for bbox `auto`, in pixels.")
    infill: Infill = Field(default_factory=Infill)
    scale: Scale = Field(default_factory=Scale)
    grow: int = Field(0, ge=0, le=256, description="Grow the mask by this many pixels before filling.")
    feather: int = Field(
        4,
        ge=0,
        le=256,
        description="Width in pixels of the smooth ramp (a smoothstep of the distance) from the fill down to the "
        "original outside the mask when pasting the result back; 0 = a hard edge.",
    )
    color_match: bool = Field(False, description="Match the filled area's colours to its surroundings.")
    tone_match: bool = Field(
        False,
        description="Match the fill's tone to the picture at its edge: a smooth correction over the whole fill (a "
        "membrane in the gradient domain) that meets the surroundings' tone at the edge, so the fill keeps its own "
        "colours and detail inside (A1111-style colour correction without flattening the fill).",
    )
    seam_pass: bool = Field(
        False,
        description="After a fill job, repair the seam along the fill's boundary as the `seams` kind does with its "
        "defaults: the fill's tone matched over its whole region and 8 px either side of its edge blended, then "
        "broken structure re-synthesised, up to 3 rounds while its seam score improves.",
    )
    seed: int = Field(-1, ge=-1, le=SEED_MAX, description="Random seed; -1 picks one (the one used is reported).")
    prompt: str = Field("", max_length=4000, description="What to paint (engines that take a prompt).")
    negative_prompt: str = Field("", max_length=4000, description="What to avoid (engines that take a prompt).")
    steps: int = Field(30, ge=1, le=200, description="Denoising steps (diffusion engines).")
    guidance: float = Field(7.5, ge=0, le=50, description="Classifier-free guidance scale (diffusion engines).")
    strength: float = Field(
        1.0, ge=0, le=1, description="How much the masked area may change (diffusion engines); 1 = repaint fully."
    )
    scheduler: Scheduler = Field(
        None,
        max_length=64,
        description="Sampler (diffusion engines): " + ", ".join(SCHEDULERS) + "; null = the model's default. "
        "Written forms such as `Euler a` or `DPM++ 2M Karras` are accepted.",
    )

    @field_validator("engine")
    @classmethod
    def _engine_name(cls, value: str) -> str:
        return value.strip()


def normalise_scheduler(text: str) -> str:
    """`DPM++ 2M Karras` -> `dpm++-2m-karras`, `Euler a` -> `euler-a`, `UniPC` -> `unipc`."""
    return re.sub(r"[\s_]+", "-", text.strip().lower())


_REQUEST_PARTS = {"body", "query", "path", "header"}


def _where(location: tuple) -> str:
    """`bbox.width` from pydantic's location, without request parts and union member tags."""
    parts = [str(p) for p in location if p not in _REQUEST_PARTS]
    parts = [p for p in parts if not ("[" in p or p[:1].isupper())]  # e.g. "BBox", "literal['auto']"
    return ".".join(parts) or "input"


def _shown(value: Any) -> str:
    shown = "{...}" if isinstance(value, dict) else repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """One line naming each bad field, its value and what is allowed."""
    # For a union (e.g. a box or "auto"), report the branch that matched the input's shape.
    errors = [e for e in errors if not (e["type"] == "literal_error" and isinstance(e.get("input"), dict))]
    parts: list[str] = []
    for item in errors:
        where = _where(tuple(item.get("loc", ())))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        if item["type"] == "invalid_kind":  # a union on `kind` (job kinds) met an unknown one
            given = item.get("input")
            shown = _shown(given.get("kind")) if isinstance(given, dict) else "{...}"
            parts.append(f"kind: {message.removeprefix('kind ')} (got {shown})")
            continue
        if item["type"] == "missing" or "input" not in item:
            parts.append(f"{where}: {message}")
            continue
        parts.append(f"{where}: {message} (got {_shown(item['input'])})")
    return "; ".join(dict.fromkeys(parts)) or "invalid input"


def describe_validation_error(error: ValidationError) -> str:
    return describe_errors(error.errors())
