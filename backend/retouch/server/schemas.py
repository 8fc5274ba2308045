"""The server's public shapes: one family per resource (`...Create` in, `...Public` out) and the events."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, computed_field, create_model

from retouch.detect.faces import DetectParams
from retouch.recipe import BBox, Strict
from retouch.workflows import DEFAULT_KIND, WORKFLOWS, Workflow

#: where the API lives (the guard, the app and result URLs read it from here)
API_PREFIX = "/api/v1"
ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
Id = Annotated[str, Field(pattern=ID_PATTERN, description="An id the server gave out.")]


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.canceled)


class ErrorPublic(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_input`, `not_found`.")
    message: str = Field(description="What was wrong, naming the field and value.")


#: what every JSON body route may answer besides its own: an unreadable body
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorPublic, "description": "The body could not be read (not UTF-8 JSON)."}
}
#: what every route that reads or writes the database may answer
DATABASE_BUSY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorPublic,
        "description": "Another process holds the database (`database_busy`); nothing was written. Try again "
        "after `Retry-After` seconds.",
    }
}


class ImagePublic(BaseModel):
    id: str
    width: int
    height: int
    has_alpha: bool


class JobRequest(Strict):
    """What every job request has; a kind's request adds its `kind`, its mask if it takes one, and its workflow's
    parameters (`retouch.workflows`)."""

    if TYPE_CHECKING:  # each kind's request declares its own `kind` (a literal), after its other fields
        kind: str
    image: Id = Field(description="Id of the uploaded picture.")
    priority: int = Field(0, ge=-100, le=100, description="Higher runs first; 100 = invoke at the front.")

    def mask_id(self) -> str | None:
        """The mask the job names, for the kinds that take one."""
        return getattr(self, "mask", None)


def _request_of(workflow: Workflow) -> type[JobRequest]:
    """The request of one kind, `FillJob` for `fill`: a named component of the API, built from its workflow."""
    if workflow.kind == DEFAULT_KIND:
        kind = Field(workflow.kind, description=f"The job's kind; `{workflow.kind}` when left out.")
    else:
        kind = Field(description="The job's kind.")
    fields: dict[str, Any] = {"kind": (Literal[workflow.kind], kind)}
    if workflow.mask_input is not None:
        required = workflow.mask_input.required
        mask = Field(... if required else None, description=workflow.mask_input.description)
        fields["mask"] = (Id if required else Id | None, mask)
    return create_model(
        f"{workflow.kind.capitalize()}Job",
        __base__=(JobRequest, workflow.Params),  # type: ignore[arg-type]  # (mypy wants every base a JobRequest)
        __doc__=workflow.summary,
        __module__=__name__,
        **fields,
    )


#: Every kind's request, by the `kind` it names, in the order of `WORKFLOWS`.
JOB_KINDS: dict[str, type[JobRequest]] = {kind: _request_of(workflow) for kind, workflow in WORKFLOWS.items()}


def _kind_of(value: Any) -> str | None:
    kind = value.get("kind", DEFAULT_KIND) if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) and kind in JOB_KINDS else None


#: A job as code sees it: any kind's request (mypy knows the fields all kinds share).
Job = JobRequest
if TYPE_CHECKING:
    JobCreate = JobRequest
else:
    #: The body of `POST /jobs`: one kind's request, told apart by `kind` (in OpenAPI: a `oneOf` of `FillJob`, ...).
    JobCreate = Annotated[
        Union[tuple(Annotated[request, Tag(kind)] for kind, request in JOB_KINDS.items())],  # noqa: UP007
        Discriminator(
            _kind_of,
            custom_error_type="invalid_kind",
            custom_error_message="kind must be one of " + ", ".join(JOB_KINDS),
        ),
    ]
JOB_ADAPTER: TypeAdapter[Job] = TypeAdapter(JobCreate)


class FacesFind(DetectParams):
    """Find the faces of a stored picture."""

    image: Id = Field(description="Id of the uploaded picture.")


class FacePublic(BaseModel):
    x: int
    y: int
    width: int
    height: int
    score: float = Field(description="The detector's confidence (HOG: SVM margin, about 0 to 3; YuNet: 0 to 1).")


class FacesPublic(BaseModel):
    faces: list[FacePublic] = Field(description="The faces found, left to right; empty when there is none.")
    smallest_face: int = Field(
        description="Faces with a side below this many pixels could not be found at this search size; a larger "
        "`search_pixels` looks for smaller ones."
    )
    detector: str


class SelectPoint(Strict):
    x: float = Field(ge=0, description="Column in picture pixels (0 <= x < width).")
    y: float = Field(ge=0, description="Row in picture pixels (0 <= y < height).")
    positive: bool = Field(True, description="true adds what is under the point; false takes it away.")


class SelectCreate(Strict):
    """Select an object of a stored picture from a box and/or clicks."""

    image: Id = Field(description="Id of the uploaded picture.")
    model: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="`grabcut` (built in, no weights; the default) or a segment-anything model of the catalog.",
    )
    box: BBox | None = Field(None, description="A box around the object, in picture pixels.")
    points: list[SelectPoint] = Field(default_factory=list, max_length=64, description="Clicks, in order.")
    previous: Id | None = Field(
        None, description="Id of a mask (the picture's size, 255 = selected) that the clicks refine."
    )


class SelectPublic(BaseModel):
    mask: str = Field(description="Id of the mask: a grey PNG of the picture's size, 255 = selected.")
    bbox: BBox | None = Field(description="The selection's bounds; null when nothing was selected.")
    area: int = Field(description="Selected pixels.")
    score: float | None = Field(
        description="The model's own estimate of the mask's quality (SAM's predicted IoU); null for GrabCut."
    )
    model: str = Field(description="The selector that ran.")


class SelectModelsPublic(BaseModel):
    models: list[str] = Field(description="Names `POST /select` takes as `model`.")
    default: str = Field(description="The selector used when a request names none.")


class Progress(BaseModel):
    step: int = 0
    total: int = 0
    stage: str | None = None


class JobResult(BaseModel):
    image: str = Field(description="Id of the result picture (GET /api/v1/images/{id}).")
    report: dict[str, Any] = Field(
        default_factory=dict, description="What the job found or measured, by kind (e.g. the fill's box)."
    )

    @computed_field(description="Where to GET the result PNG: a client fetches it as soon as `job.succeeded` comes.")
    def url(self) -> str:
        return f"{API_PREFIX}/images/{self.image}"


class JobPublic(BaseModel):
    id: str
    kind: str = Field(description="The job's kind: " + ", ".join(JOB_KINDS) + ".")
    status: JobStatus
    engine: str = Field(description="The engine or model the job runs (`lanczos` for a plain upscale).")
    position: int | None = Field(None, description="Jobs ahead of this one while it is queued.")
    progress: Progress = Field(default_factory=Progress)
    result: JobResult | None = None
    seed: int | None = Field(None, description="The seed used (known once the job ran).")
    error: ErrorPublic | None = None
    priority: int = 0
    device: str | None = Field(None, description="The device that ran (or runs) the job.")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobAccepted(BaseModel):
    id: str
    status: Literal["queued"] = "queued"
    position: int


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int = Field(description="Jobs matching the filter, over all pages.")


class EngineDefaults(BaseModel):
    steps: int
    guidance: float
    strength: float
    scheduler: str


class EnginePublic(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    description: str
    needs_weights: bool = Field(description="Runs a model (steps, guidance, strength and sampler apply).")
    takes_prompt: bool
    parameters: list[str] = Field(
        default_factory=list,
        description="Which of steps, guidance, strength, scheduler and negative_prompt the engine uses.",
    )
    needs_context: bool = Field(False, description="Copies from unmasked pixels, so the box must keep some.")
    native_size: int | None = Field(description="Side of the area the engine works best at (scale auto).")
    grid: int = Field(description="Working sizes are multiples of this.")
    purpose: Literal["inpainting", "upscaling", "face-restoration", "restoration"] = Field(
        "inpainting",
        description="What the engine is for: `inpainting` engines fill masks (fill jobs), `upscaling` ones make "
        "pictures larger (upscale jobs), `face-restoration` ones restore face crops (the faces workflow).",
    )
    family: str | None = Field(
        None, description="Model family, e.g. `sd-inpaint`, `sdxl-inpaint`, `flux-fill`, or `spandrel`."
    )
    architecture: str | None = Field(None, description="A spandrel model's architecture, e.g. `LaMa`, `ESRGAN`.")
    scale: int | None = Field(None, description="An upscaler's own factor (2, 4, ...).")
    licence: str | None = Field(
        None, description="A licence note for architectures under restrictive terms (e.g. MAT, CodeFormer)."
    )
    present: bool | None = Field(None, description="Whether the model's weights are where the catalog says.")
    schedulers: list[str] | None = Field(None, description="Samplers the model can run.")
    defaults: EngineDefaults | None = Field(None, description="What a job gets for the settings it leaves out.")


class RemoteWorkerPublic(BaseModel):
    device: str = Field(description="The worker's node and device, as jobs name it, e.g. `gpu-box-2@5f3a2c91/gpu:0`.")
    label: str = Field(description="What the device is, e.g. `NVIDIA L4`, or `CPU`.")
    loaded: list[str] = Field(description="Engines and models the worker holds loaded, least recently used first.")
    used_bytes: int = Field(description="Memory its loaded models take.")
    job: str | None = Field(None, description="The job it runs now.")


class NodePublic(BaseModel):
    node_id: str
    address: str
    name: str
    alive: bool
    gpus: float = Field(description="GPUs the node offers Ray.")
    workers: list[RemoteWorkerPublic]


class ClusterPublic(BaseModel):
    """The Ray cluster the server runs its jobs on (`retouch serve --ray`)."""

    address: str
    connected: bool = Field(description="False while the cluster cannot be reached: jobs wait in the queue.")
    problem: str | None = Field(None, description="Why the cluster cannot be used now.")
    ray_version: str | None = None
    nodes: list[NodePublic]


class StoragePublic(BaseModel):
    pictures: int = Field(description="Pictures kept (uploads and results).")
    picture_bytes: int = Field(description="Bytes the kept pictures take.")
    database_bytes: int = Field(description="Bytes of the SQLite database (with its write-ahead log).")
    free_bytes: int = Field(description="Free bytes on the disk holding the data folder.")
    disk_bytes: int = Field(description="Size of that disk.")


class LimitsPublic(BaseModel):
    """What the server accepts, so that a client can refuse (or scale down) a picture before sending it."""

    max_pixels: int = Field(description="Largest picture (and result) accepted, in pixels (width x height).")
    max_upload_bytes: int = Field(description="Largest upload accepted, in bytes.")


class HealthPublic(BaseModel):
    """Without the token (on a server that has one) only `status` is answered."""

    status: Literal["ok", "degraded"] = Field(description="`degraded`: see `problems`.")
    problems: list[str] | None = Field(None, description="What is wrong while degraded.")
    version: str | None = None
    devices: list[dict[str, Any]] | None = None
    queue: dict[str, int] | None = None
    storage: StoragePublic | None = None
    limits: LimitsPublic | None = None
    cluster: ClusterPublic | None = Field(None, description="With `--ray`: the cluster's nodes and workers.")


# Models: what the manifest offers and the catalog holds; installs of manifest entries (never a client's URL).


class ModelInstallCreate(Strict):
    """Install a model the manifest offers (`GET /models` lists them). The server downloads only what its
    manifest names: a client never gives a URL or a path."""

    name: str = Field(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$", description="A manifest entry's name."
    )


class InstallPublic(BaseModel):
    name: str
    state: Literal["queued", "running", "succeeded", "failed", "canceled"]
    done: int = Field(0, description="Bytes downloaded so far (with those of an earlier `.part`).")
    total: int | None = Field(None, description="Bytes in all, when known.")
    error: ErrorPublic | None = None


class StarterModelPublic(BaseModel):
    name: str
    purpose: str = Field(description="inpainting | upscaling | faces | segmentation")
    family: str
    licence: str
    size: int = Field(description="Bytes on disk.")
    size_approximate: bool
    description: str
    gated: bool = Field(description="Needs a Hugging Face token (HF_TOKEN) and an accepted licence.")
    installed: bool
    install: InstallPublic | None = Field(None, description="The latest install of it since the server started.")


class InstalledModelPublic(BaseModel):
    name: str
    family: str
    purpose: str
    label: str
    present: bool = Field(description="Its weights are on this machine.")
    downloaded: bool = Field(description="Retouch downloaded it: removing it deletes its files.")
    licence: str | None = None


class ModelsPublic(BaseModel):
    installed: list[InstalledModelPublic]
    starter: list[StarterModelPublic]
    disk_free: int = Field(description="Free bytes where downloaded models go.")
    models_dir: str


# Events: a discriminated union on `type`. Progress may be dropped for a slow client; the rest may not.


class _Event(BaseModel):
    job_id: str


class JobQueuedEvent(_Event):
    type: Literal["job.queued"] = "job.queued"
    position: int


class JobStartedEvent(_Event):
    type: Literal["job.started"] = "job.started"
    device: str


class JobProgressEvent(_Event):
    type: Literal["job.progress"] = "job.progress"
    step: int
    total: int
    stage: str | None = Field(None, description="What the job is at, e.g. `face 2 of 3, step 12 of 30`.")
    preview: str | None = Field(None, description="Small JPEG as a data URL.")


class JobSucceededEvent(_Event):
    type: Literal["job.succeeded"] = "job.succeeded"
    result: JobResult
    seed: int | None = Field(None, description="The seed used, for kinds that draw random numbers.")


class JobFailedEvent(_Event):
    type: Literal["job.failed"] = "job.failed"
    error: ErrorPublic


class JobCanceledEvent(_Event):
    type: Literal["job.canceled"] = "job.canceled"


class QueueStatusEvent(BaseModel):
    type: Literal["queue.status"] = "queue.status"
    pending: int
    running: int


JobEvent = Annotated[
    JobQueuedEvent | JobStartedEvent | JobProgressEvent | JobSucceededEvent | JobFailedEvent | JobCanceledEvent,
    Field(discriminator="type"),
]


class ModelInstallEvent(BaseModel):
    """An install's state or progress; sent to every connection."""

    type: Literal["model.install"] = "model.install"
    install: InstallPublic


class SocketErrorEvent(BaseModel):
    """The answer to a websocket message the server could not read; the connection stays open."""

    type: Literal["error"] = "error"
    code: str
    message: str


Event = JobEvent | QueueStatusEvent | ModelInstallEvent
#: Everything the websocket sends: in OpenAPI (`components.schemas.ServerEvent`), so clients type it.
ServerEvent = Annotated[
    JobQueuedEvent
    | JobStartedEvent
    | JobProgressEvent
    | JobSucceededEvent
    | JobFailedEvent
    | JobCanceledEvent
    | QueueStatusEvent
    | ModelInstallEvent
    | SocketErrorEvent,
    Field(discriminator="type"),
]


class Subscribe(BaseModel):
    """What a websocket client sends: the jobs it cares about, or all of its session's."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe", "unsubscribe"]
    job_ids: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(default_factory=list, max_length=1000)
    all: bool = Field(False, description="All jobs of this connection's session (`?session=` on connect).")
